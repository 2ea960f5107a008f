#pragma once
/// The file protocol of the WinDivert.dll test double (windivert_double.cpp),
/// shared with its own test. A test (a Linux script through Wine's Z: drive,
/// or a Windows program) drives the double through one directory, named by
/// the environment variable DROVER_WINDIVERT_DOUBLE_DIR ("Z:\\tmp\\x", or a
/// Linux path "/tmp/x", which the double reads as Z:/tmp/x):
///
///   open-N.txt           one per WinDivertOpen, N = 1, 2, ... (first free):
///                        "filter=F\nlayer=L\npriority=P\nflags=X\nresult=R\n",
///                        L, P, X decimal; R "handle" or "error CODE"
///   open-error           exists: every open fails, GetLastError() = its
///                        content (decimal; empty or unreadable: 31)
///   open-error-LAYER     the same for one layer only (LAYER as below); wins
///   in-LAYER/*.pkt       packets (or events) for handles of that layer, taken
///                        in name order (NNNNNN.pkt); LAYER is network,
///                        forward, flow, socket or reflect
///   done/LAYER-NAME      a consumed in-LAYER/NAME, moved here by a receive
///   out/NNNNNN.pkt       each packet injected by WinDivertSendEx, numbered
///                        from 000001 in send order
///   lose-handle          exists: every handle is lost (the driver went away):
///                        calls fail with ERROR_INVALID_HANDLE from then on
///   lose-handle-N        the same for the handle of open-N.txt only
///   closed-N             written when the handle of open-N.txt is closed
///
/// A .pkt record is the 80-byte WINDIVERT_ADDRESS exactly as the API has it,
/// then the packet's bytes (none for the SOCKET and FLOW layers). Writers put
/// a record under a name not ending in ".pkt" first and rename it (Linux
/// `mv`, Python os.rename, publish_numbered here): a reader never sees half
/// a record. double_ctl.py beside this file does all of it from Python.
#include <windows.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "third_party/windivert/windivert_api.hpp"

namespace windivert_double {

constexpr const wchar_t* dir_variable = L"DROVER_WINDIVERT_DOUBLE_DIR";
constexpr size_t address_size = sizeof(windivert::address);

/// The control directory, or empty when the variable is unset.
inline std::wstring control_dir() {
  wchar_t buf[MAX_PATH * 2];
  DWORD n = ::GetEnvironmentVariableW(dir_variable, buf, MAX_PATH * 2);
  if (n == 0 || n >= MAX_PATH * 2) return L"";
  std::wstring d(buf, n);
  // A Linux script's path: Wine maps / to Z: by default.
  if (d[0] == L'/') d = L"Z:" + d;
  while (d.size() > 3 && (d.back() == L'\\' || d.back() == L'/')) d.pop_back();
  return d;
}

inline const wchar_t* layer_name(int layer) {
  switch (layer) {
    case windivert::layer_network:
      return L"network";
    case windivert::layer_network_forward:
      return L"forward";
    case windivert::layer_flow:
      return L"flow";
    case windivert::layer_socket:
      return L"socket";
    case windivert::layer_reflect:
      return L"reflect";
    default:
      return L"unknown";
  }
}

inline std::wstring path(const std::wstring& dir, const std::wstring& name) { return dir + L"\\" + name; }

inline bool exists(const std::wstring& p) { return ::GetFileAttributesW(p.c_str()) != INVALID_FILE_ATTRIBUTES; }

inline std::optional<std::string> read_all(const std::wstring& p) {
  HANDLE h = ::CreateFileW(p.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return std::nullopt;
  std::string out;
  char buf[65536];
  DWORD got = 0;
  bool ok = true;
  while ((ok = ::ReadFile(h, buf, sizeof buf, &got, nullptr) != 0) && got > 0) out.append(buf, got);
  ::CloseHandle(h);
  if (!ok) return std::nullopt;
  return out;
}

inline bool write_all(const std::wstring& p, const std::string& bytes) {
  HANDLE h = ::CreateFileW(p.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return false;
  DWORD put = 0;
  bool ok = bytes.empty() ||
            (::WriteFile(h, bytes.data(), static_cast<DWORD>(bytes.size()), &put, nullptr) && put == bytes.size());
  ::CloseHandle(h);
  return ok;
}

/// "000042" for (42, 6); wider numbers as they are.
inline std::wstring number_name(long n, int width) {
  std::wstring s = std::to_wstring(n);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), L'0');
  return s;
}

/// Writes `bytes` under a temporary name in `dir`, then renames it to the
/// first free `prefix + number + suffix`, numbers from `first` up. The
/// rename never replaces a file, so two writers (threads or processes) never
/// take one name, and a reader sees the whole file or none. Returns the
/// number, or -1.
inline long publish_numbered(const std::wstring& dir, const std::wstring& prefix, int width, const std::wstring& suffix,
                             const std::string& bytes, long first) {
  static volatile LONG unique = 0;
  std::wstring tmp = path(dir, L".tmp-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
                                   std::to_wstring(::InterlockedIncrement(&unique)));
  if (!write_all(tmp, bytes)) return -1;
  for (long n = first < 1 ? 1 : first;; ++n) {
    std::wstring final_name = path(dir, prefix + number_name(n, width) + suffix);
    if (::MoveFileExW(tmp.c_str(), final_name.c_str(), 0)) return n;
    DWORD e = ::GetLastError();
    if (e != ERROR_ALREADY_EXISTS && e != ERROR_FILE_EXISTS) break;
  }
  ::DeleteFileW(tmp.c_str());
  return -1;
}

/// The names (not paths) of the files in `dir` matching `pattern`, sorted.
inline std::vector<std::wstring> list(const std::wstring& dir, const std::wstring& pattern) {
  std::vector<std::wstring> out;
  WIN32_FIND_DATAW fd;
  HANDLE h = ::FindFirstFileW(path(dir, pattern).c_str(), &fd);
  if (h == INVALID_HANDLE_VALUE) return out;
  do {
    if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) out.emplace_back(fd.cFileName);
  } while (::FindNextFileW(h, &fd));
  ::FindClose(h);
  std::sort(out.begin(), out.end());
  return out;
}

/// One .pkt record: the address, then the packet.
inline std::string record(const windivert::address& a, const void* packet, size_t len) {
  std::string r(reinterpret_cast<const char*>(&a), address_size);
  if (len) r.append(static_cast<const char*>(packet), len);
  return r;
}

}  // namespace windivert_double
