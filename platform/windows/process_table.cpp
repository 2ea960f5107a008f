#include "platform/process_table.hpp"

#include <windows.h>

#include <tlhelp32.h>  // after windows.h, whose types it uses

#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

std::string file_name(const std::wstring& path) {
  auto slash = path.find_last_of(L"\\/");
  return win::to_utf8(slash == std::wstring::npos ? path : path.substr(slash + 1));
}

// Calls `visit` for each process in a fresh snapshot until it returns false.
template <class F>
void for_each_process(F&& visit) {
  win::unique_handle snap(::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (!snap) return;
  PROCESSENTRY32W e{};
  e.dwSize = sizeof e;
  for (BOOL more = ::Process32FirstW(snap.get(), &e); more; more = ::Process32NextW(snap.get(), &e))
    if (!visit(e)) return;
}

std::string name_from_snapshot(uint32_t pid) {
  std::string name;
  for_each_process([&](const PROCESSENTRY32W& e) {
    if (e.th32ProcessID != pid) return true;
    name = file_name(e.szExeFile);
    return false;
  });
  return name;
}

}  // namespace

std::vector<process_info> list_processes() {
  std::vector<process_info> out;
  for_each_process([&](const PROCESSENTRY32W& e) {
    std::string name = file_name(e.szExeFile);
    if (!name.empty()) out.push_back({e.th32ProcessID, std::move(name)});
    return true;
  });
  return out;
}

std::string exe_name(uint32_t pid) {
  // One process's image name costs microseconds; a snapshot of all of them
  // milliseconds. The snapshot is for the processes we may not open
  // (protected ones, other sessions' services while not elevated).
  win::unique_handle h(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!h) return win::last_error() == ERROR_ACCESS_DENIED ? name_from_snapshot(pid) : std::string();
  // A process object outlives its process while anyone holds a handle on it:
  // an exited one is gone for us, as on Linux.
  DWORD code = 0;
  if (::GetExitCodeProcess(h.get(), &code) && code != STILL_ACTIVE) return {};
  std::wstring path(MAX_PATH, L'\0');
  for (int attempt = 0; attempt < 4; ++attempt) {
    DWORD size = static_cast<DWORD>(path.size());
    if (::QueryFullProcessImageNameW(h.get(), 0, path.data(), &size)) {
      path.resize(size);
      return file_name(path);
    }
    if (::GetLastError() != ERROR_INSUFFICIENT_BUFFER) break;
    path.resize(path.size() * 4);
  }
  return name_from_snapshot(pid);
}

uint32_t own_pid() { return static_cast<uint32_t>(::GetCurrentProcessId()); }

std::string own_executable_path() {
  // MAX_PATH first; a long-path-aware install may be deeper (up to 32767).
  for (size_t cap = MAX_PATH; cap <= 65536; cap *= 2) {
    std::wstring path(cap, L'\0');
    DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(cap));
    if (n == 0) return {};
    if (n < cap) {  // n == cap: truncated
      path.resize(n);
      return win::to_utf8(path);
    }
  }
  return {};
}

// Windows limits sockets by memory, not by a per-process descriptor count.
uint64_t raise_fd_limit() { return 0; }

}  // namespace drover::platform
