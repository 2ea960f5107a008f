#pragma once
// Internal to control_server.cpp and control_client.cpp: what both ends of the
// control channel need. A named namespace, not an unnamed one, because this is
// a header; not drover::platform itself, which has its own unique_fd
// (platform/safe_file.hpp).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

namespace drover::platform::control_detail {

// One wording for a refused user: the server's reply line and the error the
// client reports (also when the socket's mode refused it before the server).
inline constexpr const char* denied_message = "permission denied: use sudo, or add yourself to the drover group";
inline constexpr const char* denied_reply =
    R"({"error":"permission denied: use sudo, or add yourself to the drover group","code":"permission_denied"})";

class unique_fd {
 public:
  explicit unique_fd(int fd = -1) : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

inline bool fill_addr(const std::string& path, sockaddr_un& sa) {
  sa = {};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace drover::platform::control_detail
