#include "platform/windows/install_id.hpp"

#include <windows.h>

#include "platform/process_table.hpp"
#include "platform/windows/sha256.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

// Windows file names are case-insensitive: compare them upper-cased, the
// file system's own way (invariant, not the user's locale).
std::string upper(const std::string& utf8) {
  std::wstring w = win::to_wide(utf8);
  if (w.empty()) return utf8;
  std::wstring out(w.size(), L'\0');
  int n = ::LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_UPPERCASE, w.c_str(), static_cast<int>(w.size()), out.data(),
                          static_cast<int>(out.size()), nullptr, nullptr, 0);
  if (n <= 0) return utf8;
  out.resize(static_cast<size_t>(n));
  return win::to_utf8(out);
}

}  // namespace

// The one name of a file however it is spelt (another case, an 8.3 short
// name, a subst drive, a PATH entry): two spellings of one copy must not make
// two engines. A path that cannot be opened stays as it is.
std::string final_path_of(const std::string& path) {
  win::unique_handle f(::CreateFileW(win::to_wide(path).c_str(), FILE_READ_ATTRIBUTES,
                                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                     FILE_FLAG_BACKUP_SEMANTICS, nullptr));
  if (!f) return path;
  std::wstring final_path(MAX_PATH, L'\0');
  DWORD n = ::GetFinalPathNameByHandleW(f.get(), final_path.data(), static_cast<DWORD>(final_path.size()), 0);
  if (n >= final_path.size()) {
    final_path.resize(n + 1);
    n = ::GetFinalPathNameByHandleW(f.get(), final_path.data(), static_cast<DWORD>(final_path.size()), 0);
  }
  if (n == 0 || n >= final_path.size()) return path;
  final_path.resize(n);
  if (final_path.rfind(L"\\\\?\\", 0) == 0) final_path.erase(0, 4);
  return win::to_utf8(final_path);
}

// CNG is part of every Windows since Vista (and bcrypt.dll is imported at
// load time): without it drover.exe would not have started.
std::string install_id_for(const std::string& exe_path) {
  std::string path = upper(exe_path);
  // drover.com is drover.exe's console twin beside it (what cmd runs for
  // `drover status`): one copy, one id, or the CLI could not see the engine.
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".COM") == 0) path.replace(path.size() - 4, 4, ".EXE");
  auto digest = win::sha256_hex(path.data(), path.size());
  return digest ? digest->substr(0, 16) : std::string(16, '0');
}

std::string install_id() {
  static const std::string id = install_id_for(final_path_of(own_executable_path()));
  return id;
}

std::string control_pipe_name() { return "\\\\.\\pipe\\drover-" + install_id(); }

}  // namespace drover::platform
