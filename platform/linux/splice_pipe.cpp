#include "platform/splice_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drover::platform {
namespace {

// 256 KB: four times the default, so one splice moves a whole send window's
// worth on a fast link; the pages are only pinned while bytes wait in it.
constexpr int wanted_capacity = 256 * 1024;

transfer outcome(ssize_t n, bool reading) {
  transfer t;
  if (n > 0) {
    t.bytes = static_cast<size_t>(n);
    return t;
  }
  if (n == 0) {
    t.k = reading ? transfer::kind::eof : transfer::kind::would_block;
    return t;
  }
  if (errno == EAGAIN || errno == EINTR) {
    t.k = transfer::kind::would_block;
    return t;
  }
  t.k = transfer::kind::failed;
  t.os_error = errno;
  return t;
}

}  // namespace

std::string error_text(int os_error) { return std::strerror(os_error); }

splice_pipe::~splice_pipe() {
  if (read_fd_ >= 0) ::close(read_fd_);
  if (write_fd_ >= 0) ::close(write_fd_);
}

status splice_pipe::open() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
    return make_error("pipe", std::string("cannot create a pipe: ") + std::strerror(errno));
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  // Unprivileged limits may refuse the larger size; the default still works.
  int size = ::fcntl(write_fd_, F_SETPIPE_SZ, wanted_capacity);
  if (size < 0) size = ::fcntl(write_fd_, F_GETPIPE_SZ);
  capacity_ = size > 0 ? static_cast<size_t>(size) : 65536;
  return ok();
}

transfer splice_pipe::fill(native_socket from) {
  size_t room = capacity_ - pending_;
  if (room == 0) return transfer{transfer::kind::would_block, 0, 0};
  ssize_t n = ::splice(from, nullptr, write_fd_, nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  auto t = outcome(n, true);
  pending_ += t.bytes;
  return t;
}

transfer splice_pipe::drain(native_socket to) {
  if (pending_ == 0) return transfer{};
  ssize_t n = ::splice(read_fd_, nullptr, to, nullptr, pending_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  auto t = outcome(n, false);
  pending_ -= t.bytes;
  return t;
}

}  // namespace drover::platform
