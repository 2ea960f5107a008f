#pragma once
// Internal to control_server.cpp and control_client.cpp: what both ends of the
// control channel need. A named namespace, not an unnamed one, because this is
// a header.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

namespace drover::platform::control_detail {

// One wording for a refused user: the server's reply line and the error the
// client reports (also when the socket's mode refused it before the server).
inline constexpr const char* denied_message = "permission denied: use sudo, or add yourself to the drover group";
inline constexpr const char* denied_reply =
    R"({"error":"permission denied: use sudo, or add yourself to the drover group","code":"permission_denied"})";

inline bool fill_addr(const std::string& path, sockaddr_un& sa) {
  sa = {};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace drover::platform::control_detail
