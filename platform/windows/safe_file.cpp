// Windows: descriptors are C runtime fds over CreateFileW handles, so the
// callers' write_all/unique_fd code is the same on both systems. The
// directory's inherited DACL (platform/paths) decides who may read a file:
// file_mode has no separate meaning here.
#include "platform/safe_file.hpp"

#include <windows.h>

#include <fcntl.h>
#include <io.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

error os_error(const std::string& what, const std::string& path, unsigned long code) {
  return make_error("io_error", "cannot " + what + " " + path + ": " + win::error_text(code));
}

// The C runtime keeps the OS's code of its last failure in _doserrno.
error crt_error(const std::string& what, const std::string& path) {
  if (_doserrno != 0) return os_error(what, path, _doserrno);
  return make_error("io_error", "cannot " + what + " " + path + ": " + std::strerror(errno));
}

error refuse_symlink(const std::string& path) {
  return make_error("unsafe_path", "refusing to write " + path + ": it is a symlink (remove it)");
}

// Symlinks and junctions ("name surrogates") point elsewhere; other reparse
// points (OneDrive placeholders, deduplicated files) are the file itself.
bool is_link(const FILE_ATTRIBUTE_TAG_INFO& t) {
  return (t.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && IsReparseTagNameSurrogate(t.ReparseTag);
}

// What `path` itself is, without following it: false when nothing is there.
bool inspect(const std::wstring& path, FILE_ATTRIBUTE_TAG_INFO& t) {
  win::unique_handle h(::CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES,
                                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                     FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  return h && ::GetFileInformationByHandleEx(h.get(), FileAttributeTagInfo, &t, sizeof t);
}

bool same_file(HANDLE a, HANDLE b) {
  BY_HANDLE_FILE_INFORMATION x{}, y{};
  return ::GetFileInformationByHandle(a, &x) && ::GetFileInformationByHandle(b, &y) &&
         x.dwVolumeSerialNumber == y.dwVolumeSerialNumber && x.nFileIndexHigh == y.nFileIndexHigh &&
         x.nFileIndexLow == y.nFileIndexLow;
}

HANDLE open_handle(const std::wstring& path, DWORD flags) {
  return ::CreateFileW(path.c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_ALWAYS,
                       FILE_ATTRIBUTE_NORMAL | flags, nullptr);
}

// Opens without ever following a symlink: the link itself is opened and
// refused. Truncation waits until we know it is a regular file.
result<win::unique_handle> open_no_follow(const std::string& path, const std::wstring& wide) {
  win::unique_handle h(open_handle(wide, FILE_FLAG_OPEN_REPARSE_POINT));
  if (!h) {
    DWORD e = ::GetLastError();
    DWORD attrs = ::GetFileAttributesW(wide.c_str());
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
      return make_error("io_error", "cannot write " + path + ": it is a directory");
    return os_error("write", path, e);
  }
  if (::GetFileType(h.get()) != FILE_TYPE_DISK) return h;  // NUL, CON, a pipe: written as they are
  FILE_ATTRIBUTE_TAG_INFO tag{};
  if (!::GetFileInformationByHandleEx(h.get(), FileAttributeTagInfo, &tag, sizeof tag))
    return os_error("check", path, ::GetLastError());
  if (is_link(tag)) return refuse_symlink(path);
  if (!(tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) return h;
  // A placeholder must be opened through its filter to reach its content; it
  // must still be the same file, not something swapped in meanwhile.
  win::unique_handle followed(open_handle(wide, 0));
  if (!followed) return os_error("write", path, ::GetLastError());
  if (!same_file(h.get(), followed.get()))
    return make_error("unsafe_path", "refusing to write " + path + ": it changed while it was opened");
  return followed;
}

status close_checked(unique_fd& fd, const std::string& path) {
  _doserrno = 0;
  if (::_close(fd.release()) != 0) return crt_error("write", path);
  return ok();
}

status flush_if_disk(int fd, const std::string& path) {
  auto h = reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
  if (::GetFileType(h) == FILE_TYPE_DISK && !::FlushFileBuffers(h)) return os_error("write", path, ::GetLastError());
  return ok();
}

result<unique_fd> to_fd(win::unique_handle h, int flags, const std::string& path) {
  int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(h.get()), flags | _O_BINARY);
  if (fd < 0) return make_error("io_error", "cannot write " + path + ": out of C runtime descriptors");
  h.release();  // the descriptor owns it now: _close closes the handle
  return unique_fd(fd);
}

std::string::size_type last_separator(const std::string& path) { return path.find_last_of("\\/"); }

// Removes the temporary file of an atomic write unless it was renamed into place.
struct temp_file {
  std::wstring path;
  bool keep = false;
  ~temp_file() {
    if (!keep) ::DeleteFileW(path.c_str());
  }
};

}  // namespace

void unique_fd::reset(int fd) {
  if (fd_ >= 0) ::_close(fd_);
  fd_ = fd;
}

result<unique_fd> open_for_write(const std::string& path, write_mode how, file_mode /*m*/) {
  auto wide = win::to_wide(path);
  auto h = open_no_follow(path, wide);
  if (!h) return h.err();
  // O_TRUNC's meaning: only a regular file loses its content.
  if (how == write_mode::truncate && ::GetFileType(h->get()) == FILE_TYPE_DISK && !::SetEndOfFile(h->get()))
    return os_error("write", path, ::GetLastError());
  return to_fd(std::move(*h), _O_WRONLY | (how == write_mode::append ? _O_APPEND : 0), path);
}

status write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    auto chunk = static_cast<unsigned>(size < (1u << 30) ? size : (1u << 30));
    _doserrno = 0;
    int n = ::_write(fd, data, chunk);
    if (n < 0) return crt_error("write", path);
    if (n == 0) return os_error("write", path, ERROR_DISK_FULL);  // a short write with no error: no room
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return ok();
}

result<std::uint64_t> regular_file_size(int fd, const std::string& path) {
  auto h = reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
  if (::GetFileType(h) != FILE_TYPE_DISK)
    return make_error("unsafe_path", "refusing to write " + path + ": it is not a regular file (remove it)");
  LARGE_INTEGER size{};
  if (!::GetFileSizeEx(h, &size)) return os_error("check", path, ::GetLastError());
  return static_cast<std::uint64_t>(size.QuadPart);
}

entry_kind entry_kind_of(const std::string& path) {
  auto wide = win::to_wide(path);
  FILE_ATTRIBUTE_TAG_INFO tag{};
  if (inspect(wide, tag)) return is_link(tag) ? entry_kind::link : entry_kind::other;
  return ::GetFileAttributesW(wide.c_str()) == INVALID_FILE_ATTRIBUTES ? entry_kind::missing : entry_kind::other;
}

// DeleteFileW removes a file or a file link itself; a directory link (a junction) goes with
// RemoveDirectoryW, which also removes only the link.
status remove_no_follow(const std::string& path) {
  auto wide = win::to_wide(path);
  FILE_ATTRIBUTE_TAG_INFO tag{};
  bool directory_link = inspect(wide, tag) && is_link(tag) && (tag.FileAttributes & FILE_ATTRIBUTE_DIRECTORY);
  if (!(directory_link ? ::RemoveDirectoryW(wide.c_str()) : ::DeleteFileW(wide.c_str())))
    return os_error("remove", path, ::GetLastError());
  return ok();
}

// MoveFileExW renames or replaces a link itself and never writes through it.
status rename_replacing(const std::string& from, const std::string& to) {
  if (!::MoveFileExW(win::to_wide(from).c_str(), win::to_wide(to).c_str(), MOVEFILE_REPLACE_EXISTING))
    return os_error("rename", from + " to " + to, ::GetLastError());
  return ok();
}

char path_separator() { return '\\'; }

status write_file(const std::string& path, const std::string& content, file_mode m) {
  auto fd = open_for_write(path, write_mode::truncate, m);
  if (!fd) return fd.err();
  if (auto st = write_all(fd->get(), content.data(), content.size(), path); !st) return st;
  if (auto st = flush_if_disk(fd->get(), path); !st) return st;
  return close_checked(*fd, path);
}

status write_file_atomic(const std::string& path, const std::string& content, file_mode /*m*/) {
  auto wide = win::to_wide(path);
  FILE_ATTRIBUTE_TAG_INFO tag{};
  if (inspect(wide, tag)) {
    if (is_link(tag)) return refuse_symlink(path);
    if (tag.FileAttributes & FILE_ATTRIBUTE_DIRECTORY)
      return make_error("io_error", "cannot write " + path + ": it is a directory");
  }
  auto sep = last_separator(path);
  std::string dir = sep == std::string::npos ? "." : path.substr(0, sep);
  std::string base = sep == std::string::npos ? path : path.substr(sep + 1);
  static std::atomic_uint counter{0};  // distinct names for writers in one process
  temp_file tmp;
  win::unique_handle h;
  for (int attempt = 0; attempt < 100 && !h; ++attempt) {
    tmp.path = win::to_wide(dir + "\\." + base + ".tmp." + std::to_string(::GetCurrentProcessId()) + "." +
                            std::to_string(counter++));
    h.reset(::CreateFileW(tmp.path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!h && ::GetLastError() != ERROR_FILE_EXISTS) break;
  }
  if (!h) {
    tmp.keep = true;  // nothing was created
    return os_error("write", path, ::GetLastError());
  }
  auto fd = to_fd(std::move(h), _O_WRONLY, path);
  if (!fd) return fd.err();
  if (auto st = write_all(fd->get(), content.data(), content.size(), path); !st) return st;
  if (auto st = flush_if_disk(fd->get(), path); !st) return st;
  if (auto st = close_checked(*fd, path); !st) return st;
  // A virus scanner or the indexer may hold the new file open for a moment.
  for (int attempt = 0;; ++attempt) {
    if (::MoveFileExW(tmp.path.c_str(), wide.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) break;
    DWORD e = ::GetLastError();
    if (attempt >= 10 || (e != ERROR_ACCESS_DENIED && e != ERROR_SHARING_VIOLATION))
      return os_error("replace", path, e);
    ::Sleep(20);
  }
  tmp.keep = true;
  return ok();
}

}  // namespace drover::platform
