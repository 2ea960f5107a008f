#pragma once
/// Socket-to-socket forwarding inside the kernel (Linux splice(2) through a
/// pipe): the relay's bulk directions move bytes without copying them
/// through user space. Where the OS has no such thing, open() fails and the
/// relay keeps copying.
#include <cstddef>
#include <string>

#include "core/result.hpp"
#include "platform/native_socket.hpp"

namespace drover::platform {

/// What one transfer did. Plain values, no allocation: this runs per chunk.
struct transfer {
  enum class kind { moved, would_block, eof, failed };
  kind k = kind::moved;
  size_t bytes = 0;
  int os_error = 0;  ///< for `failed`; text via error_text()
};
std::string error_text(int os_error);

class splice_pipe {
 public:
  splice_pipe() = default;
  ~splice_pipe();
  splice_pipe(const splice_pipe&) = delete;
  splice_pipe& operator=(const splice_pipe&) = delete;

  /// Creates the pipe (two descriptors, held until destruction).
  status open();
  bool is_open() const { return read_fd_ >= 0; }
  /// Moves what `from` has pending into the pipe (up to its free space).
  transfer fill(native_socket from);
  /// Moves what the pipe holds into `to`.
  transfer drain(native_socket to);
  /// Bytes in the pipe not yet written out.
  size_t pending() const { return pending_; }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  size_t capacity_ = 0;
  size_t pending_ = 0;
};

}  // namespace drover::platform
