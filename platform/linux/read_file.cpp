#include "platform/read_file.hpp"
#include "platform/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

namespace drover::platform {
namespace {

error from_errno(int e) {
  switch (e) {
    case ENOENT:
      return make_error("not_found", "not found");
    case EACCES:
    case EPERM:
      return make_error("permission_denied", "permission denied");
    case EISDIR:
      return make_error("is_directory", "is a directory");
    case ENXIO:  // open() of a Unix socket
      return make_error("not_regular", "not a regular file");
    default: {
      std::string m = std::strerror(e);
      if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
      return make_error("io", m);
    }
  }
}

std::string size_text(size_t n) {
  constexpr size_t mb = 1024 * 1024;
  return n % mb == 0 ? std::to_string(n / mb) + " MB" : std::to_string(n) + " bytes";
}

// Whatever `path` names must be a regular file no bigger than `limit`.
std::optional<error> refuse(const struct stat& st, size_t limit) {
  if (S_ISDIR(st.st_mode)) return make_error("is_directory", "is a directory");
  if (!S_ISREG(st.st_mode)) return make_error("not_regular", "not a regular file");
  if (static_cast<unsigned long long>(st.st_size) > limit)
    return make_error("too_large", "larger than " + size_text(limit));
  return std::nullopt;
}

}  // namespace

result<std::string> read_small_file(const std::string& path, size_t limit) {
  // stat() first: opening a device can have effects of its own (a watchdog
  // starts counting, a tape rewinds), so a path that is not a regular file
  // is never opened at all.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return from_errno(errno);
  if (auto e = refuse(st, limit)) return *e;
  // O_NONBLOCK: should the path become a FIFO between stat() and open(),
  // open() still returns at once instead of waiting for a writer.
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return from_errno(errno);
  // The same checks on what was opened: the path may have been replaced.
  if (::fstat(fd.get(), &st) != 0) return from_errno(errno);
  if (auto e = refuse(st, limit)) return *e;
  // Read to the end, not to st_size: the file may grow or shrink meanwhile,
  // and the limit holds for what is actually read.
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return from_errno(errno);
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > limit) return make_error("too_large", "larger than " + size_text(limit));
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace drover::platform
