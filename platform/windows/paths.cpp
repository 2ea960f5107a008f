// Windows: the config roams with the user (%APPDATA%), the engine's own files
// (logs, stats) live under %PROGRAMDATA%\Drover, and the control channel is a
// named pipe, which needs no directory at all.
#include "platform/paths.hpp"

#include <windows.h>

#include <knownfolders.h>
#include <shlobj.h>

#include "platform/windows/dir_security.hpp"
#include "platform/windows/install_id.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

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

// The user's own folders: a value set (by tests, or a parent process) wins
// over the known folder. What is read from there is the user's anyway.
std::string user_folder(const wchar_t* var, REFKNOWNFOLDERID id) {
  auto v = env(var);
  return v.empty() ? known_folder(id) : v;
}

// The engine's folder comes from the known folder, which only administrators
// can move, never from PROGRAMDATA: an elevated process gets its variables
// from the user's profile (HKCU\Environment), which programs running without
// elevation can set. Under Wine, where tests redirect it, there is no such
// difference (dir_security.hpp).
std::string machine_folder() {
  auto v = win::under_wine() ? env(L"PROGRAMDATA") : std::string();
  return v.empty() ? known_folder(FOLDERID_ProgramData) : v;
}

result<std::string> drover_data_dir() {
  auto base = machine_folder();
  if (base.empty()) return make_error("not_found", "neither PROGRAMDATA nor the ProgramData folder is known");
  return base + "\\Drover";
}

result<std::string> ensured(result<std::string> path) {
  if (!path) return path;
  if (auto st = ensure_private_dir(*path, 0700); !st) return st.err();
  return path;
}

}  // namespace

std::string default_config_path() {
  auto base = user_folder(L"APPDATA", FOLDERID_RoamingAppData);
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

// `mode` and `group` are POSIX notions: the DACL is what keeps others out.
status ensure_private_dir(const std::string& dir, unsigned /*mode*/, std::optional<unsigned> /*group*/) {
  return win::ensure_machine_dir(dir);
}

std::optional<unsigned> drover_group_id() { return std::nullopt; }
std::optional<unsigned> group_id(const char*) { return std::nullopt; }

result<std::string> crash_dump_dir() { return log_dir(); }

result<std::string> dump_dir() {
  auto docs = known_folder(FOLDERID_Documents);
  if (docs.empty()) return make_error("not_found", "the Documents folder is not known");
  return docs;
}

}  // namespace drover::platform
