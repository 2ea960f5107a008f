// The desktop's side of the tray on Windows: the shell's "open" verb, and the
// user's folder beside the config (%APPDATA%\Drover).
#include "platform/desktop.hpp"

#include <windows.h>
// shellapi.h needs windows.h first.
#include <shellapi.h>

#include <chrono>
#include <future>
#include <system_error>
#include <thread>

#include "platform/paths.hpp"
#include "platform/windows/com_apartment.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

// Long enough for a slow shell extension; an open that takes longer is
// reported, and its thread finishes on its own.
constexpr auto open_wait = std::chrono::seconds(10);

// SEE_MASK_NOASYNC: the thread ends right after the call, and an
// asynchronous launch (DDE, IExecuteCommand) would be cut off with it;
// SEE_MASK_FLAG_NO_UI: no "How do you want to open this?" from a tray click.
DWORD shell_execute(const wchar_t* file, const wchar_t* params) {
  SHELLEXECUTEINFOW info{};
  info.cbSize = sizeof info;
  info.fMask = SEE_MASK_NOASYNC | SEE_MASK_FLAG_NO_UI;
  info.lpVerb = L"open";
  info.lpFile = file;
  info.lpParameters = params;
  info.nShow = SW_SHOWNORMAL;
  return ::ShellExecuteExW(&info) ? ERROR_SUCCESS : ::GetLastError();
}

status shell_open(const std::wstring& wide) {
  win::com_apartment com;  // the shell may hand the verb to an extension
  DWORD code = shell_execute(wide.c_str(), nullptr);
  if (code == ERROR_SUCCESS) return ok();
  // A fresh Windows has no program for .toml (ERROR_NO_ASSOCIATION): every
  // Windows has Notepad, and config and log are text. Only then: a missing
  // file would get Notepad's "create a new file?".
  if (code == ERROR_NO_ASSOCIATION) {
    auto args = L"\"" + wide + L"\"";
    if (shell_execute(L"notepad.exe", args.c_str()) == ERROR_SUCCESS) return ok();
  }
  return make_error("open_failed", "the shell could not open it: " + win::error_text(code));
}

}  // namespace

// The caller is one of the engine's actor threads: one that entered an
// apartment would have to pump messages for it, and its next actor would
// inherit it. The open gets a thread of its own, its apartment ending with it.
status open_with_desktop(const std::string& path) {
  std::packaged_task<status(std::wstring)> task(shell_open);
  auto done = task.get_future();
  try {
    std::thread(std::move(task), win::to_wide(path)).detach();
  } catch (const std::system_error& e) {
    return make_error("open_failed", std::string("cannot start a thread to open it: ") + e.what());
  }
  if (done.wait_for(open_wait) != std::future_status::ready)
    return make_error("open_failed", "the shell did not answer within " +
                                         std::to_string(std::chrono::seconds(open_wait).count()) + " s");
  return done.get();
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
