// The desktop's side of the tray on Windows: the shell's "open" verb, and the
// user's folder beside the config (%APPDATA%\Drover).
#include "platform/desktop.hpp"

#include <windows.h>
// shellapi.h needs windows.h first.
#include <shellapi.h>

#include "platform/paths.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {

status open_with_desktop(const std::string& path) {
  auto wide = win::to_wide(path);
  auto rc = reinterpret_cast<INT_PTR>(::ShellExecuteW(nullptr, L"open", wide.c_str(), nullptr, nullptr, SW_SHOWNORMAL));
  // ShellExecuteW returns a value above 32 on success, an error code otherwise.
  if (rc > 32) return ok();
  // A fresh Windows has no program for .toml (SE_ERR_NOASSOC): every
  // Windows has Notepad, and config and log are text.
  auto args = L"\"" + wide + L"\"";
  auto np = reinterpret_cast<INT_PTR>(
      ::ShellExecuteW(nullptr, L"open", L"notepad.exe", args.c_str(), nullptr, SW_SHOWNORMAL));
  if (np > 32) return ok();
  return make_error("open_failed", "the shell could not open it (error " + std::to_string(rc) + ")");
}

result<std::string> user_state_dir() {
  auto config = default_config_path();
  auto slash = config.find_last_of("\\/");
  if (slash == std::string::npos) return make_error("not_found", "no folder for the user's config");
  auto dir = config.substr(0, slash);
  if (!::CreateDirectoryW(win::to_wide(dir).c_str(), nullptr) && ::GetLastError() != ERROR_ALREADY_EXISTS)
    return make_error("create_failed", "cannot create " + dir + " (error " + std::to_string(::GetLastError()) + ")");
  return dir;
}

bool tray_in_engine_process() { return true; }

}  // namespace drover::platform
