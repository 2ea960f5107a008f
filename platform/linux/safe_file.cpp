#include "platform/safe_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "platform/paths.hpp"

namespace drover::platform {
namespace {

error os_error(const std::string& what, const std::string& path, int e) {
  return make_error("io_error", "cannot " + what + " " + path + ": " + std::strerror(e));
}

bool lstat_is(const std::string& path, unsigned type) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == type;
}

error refuse_symlink(const std::string& path) {
  return make_error("unsafe_path", "refusing to write " + path + ": it is a symlink (remove it)");
}

// Only regular files we own get our mode: a user-chosen /dev/null or another user's file
// keeps its own. 0600 until the group is really "drover", so no other group ever reads it.
status apply_mode(int fd, const std::string& path, file_mode m) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("check", path, errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) return ok();
  unsigned want = 0600;
  if (m == file_mode::shared_with_group) {
    if (auto gid = drover_group_id()) {
      bool has_group = st.st_gid == *gid || ::fchown(fd, static_cast<uid_t>(-1), static_cast<gid_t>(*gid)) == 0;
      if (has_group) want = 0640;
    }
  }
  if ((st.st_mode & 07777) != want && ::fchmod(fd, want) != 0) return os_error("set the mode of", path, errno);
  return ok();
}

status sync_if_regular(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("check", path, errno);
  // fsync of a device or pipe fails with EINVAL and means nothing there.
  if (S_ISREG(st.st_mode) && ::fsync(fd) != 0) return os_error("write", path, errno);
  return ok();
}

// close() reports delayed write errors (NFS, quota); on Linux the descriptor is gone even on
// EINTR, so EINTR is not a failure.
status close_checked(unique_fd& fd, const std::string& path) {
  if (::close(fd.release()) != 0 && errno != EINTR) return os_error("write", path, errno);
  return ok();
}

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Removes the temporary file of an atomic write unless it was renamed into place.
struct temp_file {
  std::string path;
  bool keep = false;
  ~temp_file() {
    if (!keep) ::unlink(path.c_str());
  }
};

}  // namespace

void unique_fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

result<unique_fd> open_for_write(const std::string& path, write_mode how, file_mode m) {
  // O_NONBLOCK only for the open: a FIFO without a reader fails (ENXIO) instead of hanging.
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  flags |= how == write_mode::append ? O_APPEND : O_TRUNC;
  unique_fd fd(::open(path.c_str(), flags, 0600));
  if (!fd) {
    int e = errno;
    if (e == ELOOP && lstat_is(path, S_IFLNK)) return refuse_symlink(path);
    if (e == ENXIO && lstat_is(path, S_IFIFO))
      return make_error("io_error", "cannot write " + path + ": it is a FIFO that no one reads");
    return os_error("write", path, e);
  }
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) return os_error("write", path, errno);
  if (auto st = apply_mode(fd.get(), path, m); !st) return st.err();
  return fd;
}

status write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write", path, errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return ok();
}

result<std::uint64_t> regular_file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("check", path, errno);
  if (!S_ISREG(st.st_mode))
    return make_error("unsafe_path", "refusing to write " + path + ": it is not a regular file (remove it)");
  return static_cast<std::uint64_t>(st.st_size);
}

entry_kind entry_kind_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return entry_kind::missing;
  return S_ISLNK(st.st_mode) ? entry_kind::link : entry_kind::other;
}

// unlink() removes a link itself and refuses a directory.
status remove_no_follow(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return os_error("remove", path, errno);
  return ok();
}

// rename() moves or replaces a link itself and never writes through it.
status rename_replacing(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return os_error("rename", from + " to " + to, errno);
  return ok();
}

char path_separator() { return '/'; }

status write_file(const std::string& path, const std::string& content, file_mode m) {
  auto fd = open_for_write(path, write_mode::truncate, m);
  if (!fd) return fd.err();
  if (auto st = write_all(fd->get(), content.data(), content.size(), path); !st) return st;
  if (auto st = sync_if_regular(fd->get(), path); !st) return st;
  return close_checked(*fd, path);
}

status write_file_atomic(const std::string& path, const std::string& content, file_mode m) {
  // rename() would replace a symlink rather than follow it; refused anyway, like write_file.
  if (lstat_is(path, S_IFLNK)) return refuse_symlink(path);
  auto dir = dir_of(path);
  auto slash = path.find_last_of('/');
  temp_file tmp{dir + "/." + (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.XXXXXX"};
  unique_fd fd(::mkostemp(tmp.path.data(), O_CLOEXEC));
  if (!fd) {
    tmp.keep = true;  // nothing was created
    return os_error("write", path, errno);
  }
  if (auto st = apply_mode(fd.get(), tmp.path, m); !st) return st;
  if (auto st = write_all(fd.get(), content.data(), content.size(), path); !st) return st;
  if (::fsync(fd.get()) != 0) return os_error("write", path, errno);
  if (auto st = close_checked(fd, path); !st) return st;
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) return os_error("replace", path, errno);
  tmp.keep = true;
  // The new content is in place; syncing the directory only makes the rename survive a power
  // cut, and some file systems cannot, so its failure is not the caller's problem.
  unique_fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
  return ok();
}

}  // namespace drover::platform
