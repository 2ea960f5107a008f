#include "platform/control_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drover::platform {
namespace {

bool fill_addr(const std::string& path, sockaddr_un& sa) {
  sa = {};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Reads until newline or EOF, bounded in size and time.
bool read_line(int fd, std::string& out, int timeout_ms) {
  char buf[4096];
  while (out.find('\n') == std::string::npos && out.size() < (1u << 20)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  auto nl = out.find('\n');
  if (nl != std::string::npos) out.resize(nl);
  return !out.empty();
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

control_server::~control_server() { stop(); }

status control_server::listen(const std::string& path) {
  sockaddr_un sa;
  if (!fill_addr(path, sa))
    return make_error("control", "control socket path too long (" + std::to_string(path.size()) + " bytes, at most " +
                                     std::to_string(sizeof sa.sun_path - 1) + "): " + path);
  if (control_request(path, "ping", 500).ok())
    return make_error("instance_running",
                      "another drover instance already answers on " + path +
                          " (an engine in another network namespace? each needs its own XDG_RUNTIME_DIR)");
  ::unlink(path.c_str());  // stale socket of a crashed run
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return make_error("control", std::string("socket: ") + std::strerror(errno));
  mode_t old = ::umask(0177);  // socket created 0600
  int rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::umask(old);
  if (rc == 0) path_ = path;  // ours from here on: stop() removes it
  if (rc < 0 || ::listen(fd_, 16) < 0)
    return make_error("control", "cannot listen on " + path + ": " + std::strerror(errno));
  ::chmod(path.c_str(), 0600);
  if (::pipe2(wake_, O_CLOEXEC) < 0) return make_error("control", "pipe failed");
  return ok();
}

void control_server::serve(handler h) {
  handler_ = std::move(h);
  thread_ = std::thread([this] { serve_loop(); });
}

void control_server::serve_loop() {
  while (true) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::string req;
    bool got = read_line(c, req, 2000);
    if (got) write_all(c, handler_(req == "watch" ? "status" : req) + "\n");
    if (got && req == "watch") {
      std::lock_guard<std::mutex> g(watchers_mu_);
      watchers_.push_back(c);  // kept open: publish() writes to it
      continue;
    }
    ::close(c);
  }
}

void control_server::publish(const std::string& line) {
  std::lock_guard<std::mutex> g(watchers_mu_);
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    // Non-blocking: a stuck watcher must not stall the engine.
    ssize_t n = ::send(*it, (line + "\n").data(), line.size() + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      ::close(*it);
      it = watchers_.erase(it);
    } else {
      ++it;
    }
  }
}

void control_server::stop() {
  // The thread first: it may still add a watcher.
  if (thread_.joinable()) {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
  }
  {
    std::lock_guard<std::mutex> g(watchers_mu_);
    for (int fd : watchers_) ::close(fd);
    watchers_.clear();
  }
  for (int* fd : {&fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

status control_watch(const std::string& path, const std::function<bool(const std::string&)>& on_line) {
  sockaddr_un sa;
  if (!fill_addr(path, sa)) return make_error("no_instance", "control socket path too long");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    if (fd >= 0) ::close(fd);
    return make_error("no_instance", "no running instance (nothing listens on " + path + ")");
  }
  write_all(fd, "watch\n");
  std::string buf;
  char chunk[4096];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n')) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (!on_line(line)) {
        ::close(fd);
        return ok();
      }
    }
  }
  ::close(fd);
  return ok();
}

result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms) {
  sockaddr_un sa;
  if (!fill_addr(path, sa)) return make_error("no_instance", "control socket path too long");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("no_instance", "socket failed");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    ::close(fd);
    return make_error("no_instance", "no running instance (nothing listens on " + path + ")");
  }
  write_all(fd, request + "\n");
  std::string resp;
  bool got = read_line(fd, resp, timeout_ms);
  ::close(fd);
  if (!got) return make_error("no_reply", "the running instance did not answer in time");
  return resp;
}

}  // namespace drover::platform
