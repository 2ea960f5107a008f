#include "platform/read_file.hpp"

#include <windows.h>

#include <cctype>

#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

error from_win(DWORD e) {
  switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_NETPATH:
      return make_error("not_found", "not found");
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
      return make_error("permission_denied", "permission denied");
    case ERROR_DIRECTORY:
      return make_error("is_directory", "is a directory");
    default: {
      std::string m = win::error_text(e);
      if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
      return make_error("io", m);
    }
  }
}

std::string size_text(size_t n) {
  constexpr size_t mb = 1024 * 1024;
  return n % mb == 0 ? std::to_string(n / mb) + " MB" : std::to_string(n) + " bytes";
}

// \\.\pipe\x, \\.\COM1, \\?\GLOBALROOT\Device\…: opening one is an action
// (a pipe counts the connection, a port raises its lines), so such a path is
// refused before it is opened. \\?\C:\… and \\?\UNC\… are ordinary files.
bool device_path(std::string p) {
  for (auto& c : p)
    if (c == '/') c = '\\';
  if (p.rfind("\\\\.\\", 0) != 0 && p.rfind("\\\\?\\", 0) != 0) return false;
  auto rest = p.substr(4);
  bool drive = rest.size() >= 2 && std::isalpha(static_cast<unsigned char>(rest[0])) && rest[1] == ':';
  bool unc = rest.size() >= 4 && (rest.compare(0, 4, "UNC\\") == 0 || rest.compare(0, 4, "unc\\") == 0);
  return !drive && !unc;
}

// CON, NUL, COM1, … name devices in every directory, with any extension.
bool dos_device(const std::string& path) {
  auto sep = path.find_last_of("\\/:");
  std::string stem = path.substr(sep == std::string::npos ? 0 : sep + 1);
  stem = stem.substr(0, stem.find('.'));
  while (!stem.empty() && stem.back() == ' ') stem.pop_back();
  for (auto& c : stem) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (stem == "CON" || stem == "PRN" || stem == "AUX" || stem == "NUL" || stem == "CONIN$" || stem == "CONOUT$")
    return true;
  bool numbered = stem.size() == 4 && (stem.rfind("COM", 0) == 0 || stem.rfind("LPT", 0) == 0) &&
                  std::isdigit(static_cast<unsigned char>(stem[3]));
  return numbered;
}

}  // namespace

result<std::string> read_small_file(const std::string& path, size_t limit) {
  if (device_path(path) || dos_device(path)) return make_error("not_regular", "not a regular file");
  auto wide = win::to_wide(path);
  // Attributes first: a directory is told as such, not as "access denied"
  // (which is what opening one as a file gives).
  DWORD attrs = ::GetFileAttributesW(wide.c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES) return from_win(::GetLastError());
  if (attrs & FILE_ATTRIBUTE_DIRECTORY) return make_error("is_directory", "is a directory");
  win::unique_handle h(::CreateFileW(wide.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                     nullptr, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, nullptr));
  if (!h) return from_win(::GetLastError());
  // NUL, CON and the like open like files but are character devices.
  if (::GetFileType(h.get()) != FILE_TYPE_DISK) return make_error("not_regular", "not a regular file");
  LARGE_INTEGER size{};
  if (!::GetFileSizeEx(h.get(), &size)) return from_win(::GetLastError());
  if (static_cast<unsigned long long>(size.QuadPart) > limit)
    return make_error("too_large", "larger than " + size_text(limit));
  // Read to the end, not to the size: the file may grow meanwhile, and the
  // limit holds for what is actually read.
  std::string out;
  out.reserve(static_cast<size_t>(size.QuadPart));
  char buf[16384];
  for (;;) {
    DWORD n = 0;
    if (!::ReadFile(h.get(), buf, sizeof buf, &n, nullptr)) {
      DWORD e = ::GetLastError();
      if (e == ERROR_HANDLE_EOF) break;
      return from_win(e);
    }
    if (n == 0) break;
    if (out.size() + n > limit) return make_error("too_large", "larger than " + size_text(limit));
    out.append(buf, n);
  }
  return out;
}

}  // namespace drover::platform
