#include "platform/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "platform/linux/control_common.hpp"
#include "platform/unique_fd.hpp"

namespace drover::platform {
namespace {

using control_detail::denied_message;
using control_detail::fill_addr;

constexpr std::size_t max_reply = 16u << 20;

// Connects; maps the OS's reasons to the channel's error codes.
result<unique_fd> connect_to(const std::string& path, int timeout_ms) {
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
    return result<unique_fd>(std::move(fd));
  }
  if (errno == EACCES || errno == EPERM) return make_error("permission_denied", denied_message);
  if (errno == EAGAIN) return make_error("no_reply", "the running instance did not accept the connection in time");
  return make_error("no_instance", "no running instance (nothing listens on " + path + ")");
}

void send_all(int fd, const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a refused client reads the reason anyway
    off += static_cast<size_t>(n);
  }
}

// Lines from a socket; `timeout_ms` < 0 waits for ever.
struct line_reader {
  int fd;
  std::string buf;
  bool next(std::string& line, int timeout_ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char chunk[4096];
    for (auto nl = buf.find('\n'); nl == std::string::npos && buf.size() < max_reply; nl = buf.find('\n')) {
      int left = -1;
      if (timeout_ms >= 0) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (ms.count() <= 0) return false;
        left = static_cast<int>(ms.count());
      }
      pollfd p{fd, POLLIN, 0};
      int rc = ::poll(&p, 1, left);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return false;
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF (or reset) ends the last line
      buf.append(chunk, static_cast<size_t>(n));
    }
    if (buf.empty()) return false;
    auto nl = buf.find('\n');
    line = buf.substr(0, nl);
    buf.erase(0, nl == std::string::npos ? buf.size() : nl + 1);
    return true;
  }
};

bool is_denied(const std::string& line) { return line.find(R"("code":"permission_denied")") != std::string::npos; }

}  // namespace

status control_watch(const std::string& path, const std::function<bool(const std::string&)>& on_line) {
  auto fd = connect_to(path, 2000);
  if (!fd) return fd.err();
  send_all(fd->get(), "watch\n");
  line_reader r{fd->get(), {}};
  std::string line;
  for (bool first = true; r.next(line, -1); first = false) {
    if (first && is_denied(line)) return make_error("permission_denied", denied_message);
    if (!on_line(line)) break;
  }
  return ok();
}

result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms) {
  auto fd = connect_to(path, timeout_ms);
  if (!fd) return fd.err();
  send_all(fd->get(), request + "\n");
  line_reader r{fd->get(), {}};
  std::string line;
  if (!r.next(line, timeout_ms)) return make_error("no_reply", "the running instance did not answer in time");
  if (is_denied(line)) return make_error("permission_denied", denied_message);
  return line;
}

}  // namespace drover::platform
