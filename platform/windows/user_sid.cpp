#include "platform/windows/user_sid.hpp"

#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <vector>

namespace drover::platform::win {
namespace {

result<std::string> token_user(HANDLE token) {
  DWORD size = 0;
  ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buf(size ? size : 1);
  if (!::GetTokenInformation(token, TokenUser, buf.data(), size, &size))
    return make_error("io_error", "cannot read a process token's user: " + last_error_text());
  return sid_text(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid);
}

}  // namespace

namespace detail {
void local_free(void* p) noexcept { ::LocalFree(p); }
}  // namespace detail

std::string sid_text(void* sid) {
  wchar_t* s = nullptr;
  if (!sid || !::ConvertSidToStringSidW(sid, &s)) return "";
  std::string out = to_utf8(s);
  ::LocalFree(s);
  return out;
}

const std::string& current_user_sid() {
  static const std::string sid = [] {
    auto r = process_user_sid(::GetCurrentProcessId());
    return r ? *r : std::string();
  }();
  return sid;
}

bool trusted_owner(const std::string& sid) {
  return !sid.empty() && (sid == current_user_sid() || sid == sid_administrators || sid == sid_system);
}

result<std::string> process_user_sid(unsigned long pid) {
  unique_handle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) return make_error("io_error", "cannot open process " + std::to_string(pid) + ": " + last_error_text());
  HANDLE token = nullptr;
  if (!::OpenProcessToken(process.get(), TOKEN_QUERY, &token))
    return make_error("io_error", "cannot open the token of process " + std::to_string(pid) + ": " + last_error_text());
  unique_handle owned(token);
  return token_user(token);
}

result<std::string> owner_sid(void* handle) {
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD rc =
      ::GetSecurityInfo(handle, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr, nullptr, &sd);
  if (rc != ERROR_SUCCESS) return make_error("io_error", "cannot read its owner: " + error_text(rc));
  std::string out = sid_text(owner);
  ::LocalFree(sd);
  if (out.empty()) return make_error("io_error", "it has no owner");
  return out;
}

std::string describe_sid(const std::string& sid) {
  PSID bin = nullptr;
  if (!::ConvertStringSidToSidW(to_wide(sid).c_str(), &bin)) return sid;
  wchar_t name[256], domain[256];
  DWORD nn = 256, dn = 256;
  SID_NAME_USE use;
  bool named = ::LookupAccountSidW(nullptr, bin, name, &nn, domain, &dn, &use);
  ::LocalFree(bin);
  if (!named) return sid;
  std::wstring who = dn > 0 ? std::wstring(domain) + L"\\" + name : std::wstring(name);
  return to_utf8(who) + " (" + sid + ")";
}

result<security_descriptor> security_descriptor::from_sddl(const std::string& sddl) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(to_wide(sddl).c_str(), SDDL_REVISION_1, &sd, nullptr))
    return make_error("io_error", "cannot build the security descriptor " + sddl + ": " + last_error_text());
  security_descriptor out;
  out.sd_.reset(sd);
  return out;
}

}  // namespace drover::platform::win
