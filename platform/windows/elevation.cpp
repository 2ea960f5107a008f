#include "platform/elevation.hpp"

#include <windows.h>

// after windows.h, whose types it uses
#include <shellapi.h>

#include <io.h>

#include <cstdio>

#include "platform/process_table.hpp"
#include "platform/windows/com_apartment.hpp"
#include "platform/windows/command_line.hpp"
#include "platform/windows/machine.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

using is_wow64_process2_fn = BOOL(WINAPI*)(HANDLE, USHORT*, USHORT*);

bool usable(HANDLE h) { return h != nullptr && h != INVALID_HANDLE_VALUE && ::GetFileType(h) != FILE_TYPE_UNKNOWN; }

// Onto the console, for printf and for those who ask GetStdHandle (spdlog's
// console sinks). Unbuffered: the CRT has no line buffering, and a prompt's
// output must not wait for exit.
void reopen(FILE* stream, const char* device, const char* mode, DWORD std_id) {
  if (!std::freopen(device, mode, stream)) return;
  if (stream != stdin) std::setvbuf(stream, nullptr, _IONBF, 0);
  intptr_t h = ::_get_osfhandle(::_fileno(stream));
  if (h != -1) ::SetStdHandle(std_id, reinterpret_cast<HANDLE>(h));
}

}  // namespace

bool is_elevated() {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &raw)) return false;
  win::unique_handle token(raw);
  TOKEN_ELEVATION elevation{};
  DWORD size = 0;
  if (!::GetTokenInformation(raw, TokenElevation, &elevation, sizeof elevation, &size)) return false;
  return elevation.TokenIsElevated != 0;
}

status relaunch_elevated(const std::vector<std::string>& args) {
  std::string exe = own_executable_path();
  if (exe.empty()) return make_error("failed", "cannot restart elevated: the path of this program is unknown");
  std::wstring file = win::to_wide(exe);
  std::wstring params = win::to_wide(win::join_arguments(args));
  // The elevated copy would otherwise start in System32: relative paths
  // (--config) must mean what they meant here.
  std::wstring dir(MAX_PATH, L'\0');
  DWORD n = ::GetCurrentDirectoryW(static_cast<DWORD>(dir.size()), dir.data());
  if (n > dir.size()) {
    dir.resize(n);
    n = ::GetCurrentDirectoryW(static_cast<DWORD>(dir.size()), dir.data());
  }
  dir.resize(n < dir.size() ? n : 0);

  win::com_apartment com;  // ShellExecuteEx may hand the verb to a shell extension
  SHELLEXECUTEINFOW info{};
  info.cbSize = sizeof info;
  info.fMask = SEE_MASK_NOASYNC | SEE_MASK_FLAG_NO_UI;
  info.lpVerb = L"runas";
  info.lpFile = file.c_str();
  info.lpParameters = params.c_str();
  info.lpDirectory = dir.empty() ? nullptr : dir.c_str();
  info.nShow = SW_SHOWNORMAL;
  if (::ShellExecuteExW(&info)) return ok();
  DWORD code = ::GetLastError();
  if (code == ERROR_CANCELLED) return make_error("cancelled", "the administrator prompt was declined");
  return make_error("failed", "cannot restart " + exe + " as administrator: " + win::error_text(code));
}

status check_machine() {
  // IsWow64Process2 is Windows 10 1709+; older systems (and some Wine
  // builds) lack it, and they have no ARM64 either.
  auto fn = reinterpret_cast<is_wow64_process2_fn>(
      reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "IsWow64Process2")));
  if (!fn) return ok();
  USHORT process_machine = 0, native_machine = 0;
  if (!fn(::GetCurrentProcess(), &process_machine, &native_machine)) return ok();
  return win::machine_supported(native_machine);
}

void attach_parent_console() {
  // A caller that redirected our output (a script, a test, `> file`) gave
  // us valid handles: those stay. Only missing ones go to the console.
  bool out_ok = usable(::GetStdHandle(STD_OUTPUT_HANDLE));
  bool err_ok = usable(::GetStdHandle(STD_ERROR_HANDLE));
  bool in_ok = usable(::GetStdHandle(STD_INPUT_HANDLE));
  if (out_ok && err_ok) return;
  // Fails when there is no parent console (started from Explorer, the Run
  // key) or we have one already: either way nothing to reopen.
  if (!::AttachConsole(ATTACH_PARENT_PROCESS)) return;
  if (!out_ok) reopen(stdout, "CONOUT$", "w", STD_OUTPUT_HANDLE);
  if (!err_ok) reopen(stderr, "CONOUT$", "w", STD_ERROR_HANDLE);
  if (!in_ok) reopen(stdin, "CONIN$", "r", STD_INPUT_HANDLE);
}

void tell_start_failure(const std::string& sentence) {
  std::fprintf(stderr, "drover: %s\n", sentence.c_str());
  // A double click or the Run key: no console, so the sentence above went
  // nowhere. The user would see Drover do nothing at all.
  if (usable(::GetStdHandle(STD_ERROR_HANDLE))) return;
  ::MessageBoxW(nullptr, win::to_wide(sentence).c_str(), L"Drover", MB_OK | MB_ICONERROR | MB_SETFOREGROUND);
}

config::target_os this_os() { return config::target_os::windows; }

}  // namespace drover::platform
