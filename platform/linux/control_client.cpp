#include "platform/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "platform/control_reply.hpp"
#include "platform/linux/control_common.hpp"
#include "platform/unique_fd.hpp"

namespace drover::platform {
namespace {

using control_detail::fill_addr;

// A connection to the control socket (see control_detail::reply_client).
struct socket_link {
  static constexpr const char* denied_message = control_detail::denied_message;

  // Maps the OS's reasons to the channel's error codes.
  static result<socket_link> connect(const std::string& path, int timeout_ms) {
    sockaddr_un sa;
    if (!fill_addr(path, sa)) return make_error("no_instance", "control socket path too long");
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error("no_instance", std::string("socket: ") + std::strerror(errno));
    // Bounds connect() on a full backlog and the request's send.
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
      // Only an engine (root) or our own user may answer: a socket another
      // user put in our way (a root shell that kept a user's XDG_RUNTIME_DIR)
      // would otherwise tell us "Active".
      ucred cr{};
      socklen_t len = sizeof cr;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || (cr.uid != 0 && cr.uid != ::geteuid()))
        return make_error("impostor", "refusing the answer on " + path + ": it is served by uid " +
                                          std::to_string(cr.uid) + ", not by root (someone else's socket)");
      return socket_link{std::move(fd)};
    }
    if (errno == EACCES || errno == EPERM) return make_error("permission_denied", denied_message);
    if (errno == EAGAIN) return make_error("no_reply", "the running instance did not accept the connection in time");
    return make_error("no_instance", "no running instance (nothing listens on " + path + ")");
  }

  // SO_SNDTIMEO, set by connect(), bounds the send.
  void send(const std::string& s, int /*timeout_ms*/) {
    for (size_t off = 0; off < s.size();) {
      ssize_t n = ::send(fd.get(), s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a refused client reads the reason anyway
      off += static_cast<size_t>(n);
    }
  }

  long read(char* buf, std::size_t size, int timeout_ms) {
    pollfd p{fd.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) return control_detail::chunk_retry;
    if (rc <= 0) return control_detail::chunk_none;
    ssize_t n = ::read(fd.get(), buf, size);
    if (n < 0 && errno == EINTR) return control_detail::chunk_retry;
    if (n <= 0) return control_detail::chunk_end;  // EOF (or reset) ends the last line
    return static_cast<long>(n);
  }

  unique_fd fd;
};

using client = control_detail::reply_client<socket_link>;

}  // namespace

status control_watch(const std::string& path, const std::function<bool(const std::string&)>& on_line) {
  return client::watch(path, on_line);
}

result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms) {
  return client::request(path, request, timeout_ms);
}

}  // namespace drover::platform
