// Windows: the config roams with the user (%APPDATA%), the engine's own files
// (logs, stats) live under %PROGRAMDATA%\Drover, and the control channel is a
// named pipe, which needs no directory at all.
#include "platform/paths.hpp"

#include <windows.h>

#include <aclapi.h>
#include <knownfolders.h>
#include <sddl.h>
#include <shlobj.h>

#include "platform/windows/install_id.hpp"
#include "platform/windows/user_sid.hpp"

namespace drover::platform {
namespace {

// Tests redirect these; a value set (even by a parent process) wins over the
// known folder.
std::string env(const wchar_t* name) {
  DWORD n = ::GetEnvironmentVariableW(name, nullptr, 0);
  if (n == 0) return "";
  std::wstring buf(n, L'\0');
  n = ::GetEnvironmentVariableW(name, buf.data(), n);
  return n > 0 && n < buf.size() ? win::to_utf8(buf.substr(0, n)) : "";
}

std::string known_folder(REFKNOWNFOLDERID id) {
  wchar_t* p = nullptr;
  std::string out;
  if (SUCCEEDED(::SHGetKnownFolderPath(id, KF_FLAG_DEFAULT, nullptr, &p)) && p) out = win::to_utf8(p);
  ::CoTaskMemFree(p);
  return out;
}

std::string folder(const wchar_t* var, REFKNOWNFOLDERID id) {
  auto v = env(var);
  return v.empty() ? known_folder(id) : v;
}

result<std::string> drover_data_dir() {
  auto base = folder(L"PROGRAMDATA", FOLDERID_ProgramData);
  if (base.empty()) return make_error("not_found", "neither PROGRAMDATA nor the ProgramData folder is known");
  return base + "\\Drover";
}

std::string parent_of(const std::string& dir) {
  auto end = dir.find_last_not_of("\\/");
  if (end == std::string::npos) return "";
  auto sep = dir.find_last_of("\\/", end);
  return sep == std::string::npos ? "" : dir.substr(0, sep);
}

error refuse(const std::string& dir, const std::string& why) {
  return make_error("unsafe_path", "refusing " + dir + ": " + why);
}

error io_fail(const std::string& what, const std::string& dir, unsigned long code) {
  return make_error("io_error", "cannot " + what + " " + dir + ": " + win::error_text(code));
}

// Rights that let someone plant, replace or delete what is inside, or take
// the directory over.
constexpr DWORD write_rights = FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | DELETE | WRITE_DAC |
                               WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

std::string sid_string(PSID sid) {
  wchar_t* s = nullptr;
  if (!::ConvertSidToStringSidW(sid, &s)) return "";
  std::string out = win::to_utf8(s);
  ::LocalFree(s);
  return out;
}

// Any user may create folders in ProgramData: one could make ours first and
// read or swap what Drover writes there. Only a directory that only we (or
// Administrators, SYSTEM) can change is used.
status check_security(const std::string& dir, PSID owner, PACL dacl) {
  auto owner_text = owner ? sid_string(owner) : "";
  if (!win::trusted_owner(owner_text))
    return refuse(dir, "owned by " + win::describe_sid(owner_text) +
                           ", not by you, Administrators or SYSTEM (another user may have created it: remove it, or "
                           "take ownership of it)");
  if (!dacl) return refuse(dir, "it has no access list, so everyone may change it (remove it)");
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    ACE_HEADER* ace = nullptr;
    if (!::GetAce(dacl, i, reinterpret_cast<void**>(&ace))) continue;
    if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE || (ace->AceFlags & INHERIT_ONLY_ACE)) continue;
    auto* allowed = reinterpret_cast<ACCESS_ALLOWED_ACE*>(ace);
    auto who = sid_string(&allowed->SidStart);
    if ((allowed->Mask & write_rights) && !win::trusted_owner(who))
      return refuse(dir, "writable by " + win::describe_sid(who) +
                             " (remove it so that Drover creates it afresh, or remove that permission)");
  }
  return ok();
}

// Each check says what to do: the reader is someone with a broken install.
status check_dir(const std::string& dir) {
  auto wide = win::to_wide(dir);
  // By path too: Wine reports a Unix symlink as a reparse point only here.
  DWORD attrs = ::GetFileAttributesW(wide.c_str());
  if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT))
    return refuse(dir, "it is a junction or symbolic link (remove it)");
  win::unique_handle h(::CreateFileW(wide.c_str(), READ_CONTROL | FILE_READ_ATTRIBUTES,
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

result<std::string> ensured(result<std::string> path) {
  if (!path) return path;
  if (auto st = ensure_private_dir(*path, 0700); !st) return st.err();
  return path;
}

}  // namespace

std::string default_config_path() {
  auto base = folder(L"APPDATA", FOLDERID_RoamingAppData);
  if (base.empty()) {
    auto data = drover_data_dir();
    return data ? *data + "\\config.toml" : std::string("config.toml");
  }
  return base + "\\Drover\\config.toml";
}

result<std::string> runtime_dir_path() { return drover_data_dir(); }
result<std::string> runtime_dir() { return ensured(runtime_dir_path()); }
result<std::string> control_socket_listen_path() { return control_pipe_name(); }
std::string control_socket_path() { return control_pipe_name(); }

result<std::string> log_dir_path() {
  auto base = drover_data_dir();
  if (!base) return base;
  return *base + "\\logs";
}

result<std::string> log_dir() {
  if (auto base = runtime_dir(); !base) return base;  // its parent, created and checked first
  return ensured(log_dir_path());
}

result<std::string> state_dir_path() { return drover_data_dir(); }
result<std::string> state_dir() { return ensured(state_dir_path()); }

// `mode` and `group` are POSIX notions: the DACL below is what keeps others out.
status ensure_private_dir(const std::string& dir, unsigned /*mode*/, std::optional<unsigned> /*group*/) {
  auto parent = parent_of(dir);
  if (parent.empty()) return refuse(dir, "not a directory Drover can own");
  const auto& me = win::current_user_sid();
  if (me.empty()) return make_error("io_error", "cannot create " + dir + ": this process's user is unknown");
  // Protected (P): nothing inherited from ProgramData, whose Users may add
  // files to every subfolder. OICI: files made inside get the same list.
  auto sd = win::security_descriptor::from_sddl("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;" + me + ")");
  if (!sd) return sd.err();
  SECURITY_ATTRIBUTES sa{sizeof sa, sd->get(), FALSE};
  if (!::CreateDirectoryW(win::to_wide(dir).c_str(), &sa)) {
    DWORD e = ::GetLastError();
    if (e == ERROR_PATH_NOT_FOUND)
      return make_error("not_found",
                        "cannot create " + dir + ": its parent " + parent + " does not exist (create it first)");
    if (e != ERROR_ALREADY_EXISTS) return io_fail("create", dir, e);
  }
  return check_dir(dir);
}

std::optional<unsigned> drover_group_id() { return std::nullopt; }
std::optional<unsigned> group_id(const char*) { return std::nullopt; }

result<std::string> crash_dump_dir() { return log_dir(); }

}  // namespace drover::platform
