// The login start: a value "Drover" = "<exe>" run under HKCU's Run key. Task
// Manager's "Disable" keeps that value and writes a REG_BINARY of the same
// name under Explorer\StartupApproved\Run whose first byte is odd (02 on,
// 03 off): the user's choice, which we report and never overwrite.
#include "platform/autostart.hpp"

#include <windows.h>

#include <vector>

#include "platform/process_table.hpp"
#include "platform/windows/install_id.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

constexpr const wchar_t* run_key = L"Software\\Microsoft\\Windows\\CurrentVersion\\Run";
constexpr const wchar_t* approved_key = L"Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run";
constexpr const wchar_t* value_name = L"Drover";
const std::string run_key_text = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";

error failure(const std::string& what, LSTATUS rc) {
  return make_error("failed", what + ": " + win::error_text(static_cast<unsigned long>(rc)));
}

// The Run value's text (REG_EXPAND_SZ expanded); empty when there is none.
result<std::wstring> read_command() {
  std::wstring text(512, L'\0');
  for (int attempt = 0; attempt < 4; ++attempt) {
    DWORD bytes = static_cast<DWORD>(text.size() * sizeof(wchar_t));
    LSTATUS rc = ::RegGetValueW(HKEY_CURRENT_USER, run_key, value_name, RRF_RT_REG_SZ, nullptr, text.data(), &bytes);
    if (rc == ERROR_FILE_NOT_FOUND) return std::wstring();
    if (rc == ERROR_SUCCESS) {
      text.resize(bytes / sizeof(wchar_t));
      while (!text.empty() && text.back() == L'\0') text.pop_back();
      return text;
    }
    if (rc != ERROR_MORE_DATA) return failure("cannot read " + run_key_text + "\\Drover", rc);
    text.resize(bytes / sizeof(wchar_t) + 1);
  }
  return failure("cannot read " + run_key_text + "\\Drover", ERROR_MORE_DATA);
}

// Task Manager's verdict; no value (never touched there) means allowed.
bool disabled_in_task_manager() {
  std::vector<BYTE> data(64);
  DWORD bytes = static_cast<DWORD>(data.size());
  LSTATUS rc =
      ::RegGetValueW(HKEY_CURRENT_USER, approved_key, value_name, RRF_RT_REG_BINARY, nullptr, data.data(), &bytes);
  return rc == ERROR_SUCCESS && bytes > 0 && (data[0] & 1) != 0;
}

// The program a command line starts: the quoted first token, or everything
// up to the first blank.
std::wstring program_of(const std::wstring& command) {
  if (!command.empty() && command[0] == L'"') {
    auto end = command.find(L'"', 1);
    return command.substr(1, end == std::wstring::npos ? std::wstring::npos : end - 1);
  }
  return command.substr(0, command.find_first_of(L" \t"));
}

bool same_path(const std::wstring& a, const std::wstring& b) {
  // File names compare without case (NTFS's default, and what Explorer does).
  return ::CompareStringOrdinal(a.c_str(), static_cast<int>(a.size()), b.c_str(), static_cast<int>(b.size()), TRUE) ==
         CSTR_EQUAL;
}

}  // namespace

result<autostart_state> autostart_status() {
  auto command = read_command();
  if (!command) return command.err();
  autostart_state s;
  s.enabled = !command->empty();
  s.disabled_by_user = disabled_in_task_manager();
  s.disabled_where = "disabled in Task Manager (Startup apps): Windows will not start it";
  s.command = win::to_utf8(*command);
  // Final names on both sides: a Run entry written with a short name or a
  // subst drive still names this copy.
  if (s.enabled)
    s.stale = !same_path(win::to_wide(final_path_of(win::to_utf8(program_of(*command)))),
                         win::to_wide(final_path_of(own_executable_path())));
  return s;
}

status autostart_enable() {
  std::string exe = own_executable_path();
  if (exe.empty()) return make_error("failed", "cannot enable autostart: the path of this program is unknown");
  std::wstring command = L"\"" + win::to_wide(exe) + L"\" run";
  HKEY raw = nullptr;
  LSTATUS rc = ::RegCreateKeyExW(HKEY_CURRENT_USER, run_key, 0, nullptr, 0, KEY_SET_VALUE, nullptr, &raw, nullptr);
  if (rc != ERROR_SUCCESS) return failure("cannot open " + run_key_text, rc);
  win::unique_hkey key(raw);
  rc = ::RegSetValueExW(raw, value_name, 0, REG_SZ, reinterpret_cast<const BYTE*>(command.c_str()),
                        static_cast<DWORD>((command.size() + 1) * sizeof(wchar_t)));
  if (rc != ERROR_SUCCESS) return failure("cannot write " + run_key_text + "\\Drover", rc);
  return ok();
}

status autostart_disable() {
  // Only our value goes; Task Manager's record of the user's choice stays
  // with the user (it names no program of ours once the value is gone).
  LSTATUS rc = ::RegDeleteKeyValueW(HKEY_CURRENT_USER, run_key, value_name);
  if (rc == ERROR_SUCCESS || rc == ERROR_FILE_NOT_FOUND) return ok();
  return failure("cannot remove " + run_key_text + "\\Drover", rc);
}

status autostart_refresh() {
  auto s = autostart_status();
  if (!s) return s.err();
  // Off stays off: a refresh must not turn on what the user turned off.
  if (!s->enabled || !s->stale) return ok();
  // Another copy that still exists keeps its entry (an installed and a
  // portable copy run side by side; starting the portable one once must not
  // take autostart from the installed one). Only an entry naming a program
  // that is gone (moved, uninstalled, reinstalled elsewhere) comes to us.
  if (::GetFileAttributesW(program_of(win::to_wide(s->command)).c_str()) != INVALID_FILE_ATTRIBUTES) return ok();
  return autostart_enable();
}

}  // namespace drover::platform
