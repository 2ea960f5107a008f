// The engine's machine folder: its check (no junction, a directory, owner and
// access list as judge_dir_security allows) and its creation.
#include "platform/windows/dir_security.hpp"

#include <windows.h>

#include <aclapi.h>  // after windows.h, whose types these use
#include <sddl.h>

#include <algorithm>

#include "platform/windows/user_sid.hpp"

namespace drover::platform::win {
namespace {

// Rights that let someone plant, replace or delete what is inside, or take
// the folder over.
constexpr std::uint32_t write_rights = FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | DELETE | WRITE_DAC |
                                       WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

error refuse(const std::string& dir, const std::string& why) {
  return make_error("unsafe_path", "refusing " + dir + ": " + why);
}

bool among(const std::string& sid, const std::vector<std::string>& trusted) {
  return !sid.empty() && std::find(trusted.begin(), trusted.end(), sid) != trusted.end();
}

std::string parent_of(const std::string& dir) {
  auto end = dir.find_last_not_of("\\/");
  if (end == std::string::npos) return "";
  auto sep = dir.find_last_of("\\/", end);
  return sep == std::string::npos ? "" : dir.substr(0, sep);
}

error io_fail(const std::string& what, const std::string& dir, unsigned long code) {
  return make_error("io_error", "cannot " + what + " " + dir + ": " + error_text(code));
}

// Any user may create folders in ProgramData: one could make ours first and
// read or swap what Drover writes there.
status check_security(const std::string& dir, PSID owner, PACL dacl) {
  if (!dacl) return refuse(dir, "it has no access list, so everyone may change it (remove it)");
  std::vector<allowed_ace> aces;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    ACE_HEADER* ace = nullptr;
    if (!::GetAce(dacl, i, reinterpret_cast<void**>(&ace))) continue;
    if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE || (ace->AceFlags & INHERIT_ONLY_ACE)) continue;
    auto* allowed = reinterpret_cast<ACCESS_ALLOWED_ACE*>(ace);
    aces.push_back({sid_text(&allowed->SidStart), allowed->Mask});
  }
  return judge_dir_security(dir, owner ? sid_text(owner) : "", aces, machine_dir_writers());
}

// Each check says what to do: the reader is someone with a broken install.
status check_dir(const std::string& dir) {
  auto wide = to_wide(dir);
  // By path too: Wine reports a Unix symlink as a reparse point only here.
  DWORD attrs = ::GetFileAttributesW(wide.c_str());
  if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT))
    return refuse(dir, "it is a junction or symbolic link (remove it)");
  unique_handle h(::CreateFileW(wide.c_str(), READ_CONTROL | FILE_READ_ATTRIBUTES,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  if (!h) return io_fail("check", dir, ::GetLastError());
  FILE_ATTRIBUTE_TAG_INFO tag{};
  if (!::GetFileInformationByHandleEx(h.get(), FileAttributeTagInfo, &tag, sizeof tag))
    return io_fail("check", dir, ::GetLastError());
  if (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
    return refuse(dir, "it is a junction or symbolic link (remove it)");
  if (!(tag.FileAttributes & FILE_ATTRIBUTE_DIRECTORY)) return refuse(dir, "it is not a directory (remove it)");
  PSID owner = nullptr;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD rc = ::GetSecurityInfo(h.get(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                               nullptr, &dacl, nullptr, &sd);
  if (rc != ERROR_SUCCESS) return io_fail("read the permissions of", dir, rc);
  auto st = check_security(dir, owner, dacl);
  ::LocalFree(sd);
  return st;
}

}  // namespace

bool under_wine() {
  static const bool wine = [] {
    HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
    return ntdll && ::GetProcAddress(ntdll, "wine_get_version");
  }();
  return wine;
}

std::vector<std::string> machine_dir_writers() {
  std::vector<std::string> out{sid_administrators, sid_system};
  if (under_wine() && !current_user_sid().empty()) out.push_back(current_user_sid());
  return out;
}

// Each refusal says what to do: the reader is someone with a broken install
// or a planted folder, and removing it lets Drover create it afresh.
status judge_dir_security(const std::string& dir, const std::string& owner, const std::vector<allowed_ace>& aces,
                          const std::vector<std::string>& trusted) {
  if (!among(owner, trusted))
    return refuse(dir, "owned by " + (owner.empty() ? std::string("nobody") : describe_sid(owner)) +
                           ", not by Administrators or SYSTEM (a program running without elevation created it, "
                           "or another user: remove it, and Drover creates it afresh)");
  for (const auto& a : aces)
    if ((a.mask & write_rights) && !among(a.sid, trusted))
      return refuse(dir, "writable by " + describe_sid(a.sid) +
                             " (remove it so that Drover creates it afresh, or remove that permission)");
  return ok();
}

status ensure_machine_dir(const std::string& dir) {
  auto parent = parent_of(dir);
  if (parent.empty()) return refuse(dir, "not a directory Drover can own");
  const auto& me = current_user_sid();
  if (me.empty()) return make_error("io_error", "cannot create " + dir + ": this process's user is unknown");
  // Owned by Administrators, whatever the policy for objects an
  // administrator creates says. Protected (P): nothing inherited from
  // ProgramData, whose Users may add files to every subfolder. OICI: files
  // made inside get the same list. The user may read (the log), not write.
  std::string sddl = "O:BAD:P";
  auto writers = machine_dir_writers();
  for (const auto& w : writers) sddl += "(A;OICI;FA;;;" + w + ")";
  if (!among(me, writers)) sddl += "(A;OICI;0x1200a9;;;" + me + ")";
  auto sd = security_descriptor::from_sddl(sddl);
  if (!sd) return sd.err();
  SECURITY_ATTRIBUTES sa{sizeof sa, sd->get(), FALSE};
  if (!::CreateDirectoryW(to_wide(dir).c_str(), &sa)) {
    DWORD e = ::GetLastError();
    if (e == ERROR_INVALID_OWNER)  // Administrators may own it only from an elevated token
      return make_error("permission_denied", "cannot create " + dir + ": only an elevated Drover may (drover run)");
    if (e == ERROR_PATH_NOT_FOUND)
      return make_error("not_found",
                        "cannot create " + dir + ": its parent " + parent + " does not exist (create it first)");
    if (e != ERROR_ALREADY_EXISTS) return io_fail("create", dir, e);
  }
  return check_dir(dir);
}

}  // namespace drover::platform::win
