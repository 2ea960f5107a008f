// Windows has no socket-to-socket move inside the kernel that fits here
// (TransmitFile sends files, not sockets): open() says so and the relay keeps
// copying through its own buffer.
#include "platform/splice_pipe.hpp"

#include <windows.h>

#include "platform/windows/win_handle.hpp"

namespace drover::platform {

// FormatMessageW knows the WSA codes (10035 and up) as well as Win32's.
std::string error_text(int os_error) { return win::error_text(static_cast<unsigned long>(os_error)); }

splice_pipe::~splice_pipe() = default;

status splice_pipe::open() {
  return make_error("unsupported", "no in-kernel socket splicing on Windows: the relay copies");
}

transfer splice_pipe::fill(native_socket) { return transfer{transfer::kind::failed, 0, ERROR_NOT_SUPPORTED}; }

transfer splice_pipe::drain(native_socket) { return transfer{transfer::kind::failed, 0, ERROR_NOT_SUPPORTED}; }

}  // namespace drover::platform
