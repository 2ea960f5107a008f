#pragma once
/// The OS's socket handle as Asio hands it out (`native_handle()`): an int on
/// POSIX, a SOCKET (a 64-bit UINT_PTR) on Windows. actors/ checks it against
/// Asio's own type, so a mismatch fails the build instead of truncating.
#include <cstdint>

namespace drover::platform {
#if defined(_WIN32)
using native_socket = std::uintptr_t;
#else
using native_socket = int;
#endif
}  // namespace drover::platform
