// The lock is a listening socket bound to an abstract Unix name: abstract
// names belong to the network namespace (exactly the scope of the rules and
// the queue), need no file that could go stale, and the kernel frees them when
// the holder's last descriptor closes, however it dies (SIGKILL included).
#include "platform/single_instance.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace drover::platform {
namespace {

// Closes a descriptor on every path out of acquire().
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

socklen_t abstract_addr(const std::string& name, sockaddr_un& sa) {
  sa = {};
  sa.sun_family = AF_UNIX;
  // sun_path[0] stays '\0': the name lives in the abstract namespace.
  std::memcpy(sa.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

enum class holder_answer { pid_known, refused, other };

// Asks the holder who it is: connecting is enough, SO_PEERCRED carries the
// pid the holder had when it started listening. Non-blocking, so a holder
// that never accepts cannot stall us.
holder_answer ask_holder(const sockaddr_un& sa, socklen_t len, pid_t& pid, uid_t& uid, int& err) {
  fd_guard c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (c.get() < 0) {
    err = errno;
    return holder_answer::other;
  }
  if (::connect(c.get(), reinterpret_cast<const sockaddr*>(&sa), len) < 0) {
    err = errno;
    return errno == ECONNREFUSED ? holder_answer::refused : holder_answer::other;
  }
  ucred cred{};
  socklen_t cl = sizeof cred;
  if (::getsockopt(c.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
    err = errno;
    return holder_answer::other;
  }
  pid = cred.pid;
  uid = cred.uid;
  return holder_answer::pid_known;
}

}  // namespace

result<std::unique_ptr<single_instance>> single_instance::acquire(const std::string& name) {
  sockaddr_un sa;
  if (name.empty() || name.size() + 1 > sizeof sa.sun_path) return make_error("lock", "bad lock name: " + name);
  socklen_t len = abstract_addr(name, sa);
  int err = 0;
  // A holder that is exiting (or has bound but not yet listens) refuses
  // connections for a moment: try again rather than report a false owner.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_guard s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
    if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&sa), len) == 0) {
      if (::listen(s.get(), 16) < 0)
        return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
      fd_guard wake(::eventfd(0, EFD_CLOEXEC));
      if (wake.get() < 0)
        return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
      std::unique_ptr<single_instance> lock(new single_instance(s.release(), wake.release()));
      lock->thread_ = std::thread([l = lock.get()] { l->serve(); });
      return lock;
    }
    if (errno != EADDRINUSE)
      return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
    pid_t pid = 0;
    uid_t uid = 0;
    switch (ask_holder(sa, len, pid, uid, err)) {
      case holder_answer::pid_known:
        // An engine runs as root; any user can bind the name first, though,
        // and that must not pass for a running engine.
        if (::geteuid() == 0 && uid != 0)
          return make_error("lock_squatted", "the engine lock @" + name + " is held by pid " + std::to_string(pid) +
                                                 " of uid " + std::to_string(uid) +
                                                 ", not an engine: stop that process and start again");
        // pid 0: the holder is in a PID namespace we cannot see into.
        return make_error("already_running", pid > 0 ? "already running (pid " + std::to_string(pid) + ")"
                                                     : std::string("already running (in another PID namespace)"));
      case holder_answer::refused:
        break;
      case holder_answer::other:
        if (err == EAGAIN)  // its backlog is full: someone holds it, whoever it is
          return make_error("already_running", "already running (its lock does not answer)");
        break;
    }
    err = 0;
    ::usleep(10 * 1000);
  }
  return make_error("lock", "cannot take the engine lock: @" + name + " is held but its holder does not answer");
}

std::string single_instance::holder(const std::string& name) {
  sockaddr_un sa;
  if (name.empty() || name.size() + 1 > sizeof sa.sun_path) return "";
  socklen_t len = abstract_addr(name, sa);
  pid_t pid = 0;
  uid_t uid = 0;
  int err = 0;
  switch (ask_holder(sa, len, pid, uid, err)) {
    case holder_answer::pid_known:
      return pid > 0 ? "pid " + std::to_string(pid) : std::string("a process in another PID namespace");
    case holder_answer::other:
      return err == EAGAIN ? "a process whose lock does not answer" : "";
    case holder_answer::refused:
      break;
  }
  return "";
}

single_instance::single_instance(int listen_fd, int wake_fd) : fd_(listen_fd), wake_(wake_fd) {}

single_instance::~single_instance() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
    thread_.join();
  }
  ::close(fd_);
  ::close(wake_);
}

// Accepts and closes: the asker already has our pid from the connection.
// Without this its connection would sit in the backlog, and once that is
// full the next asker could not tell who holds the lock.
void single_instance::serve() {
  while (true) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      ::close(c);
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
      // Out of descriptors: do not spin on a listener that stays readable.
      pollfd w{wake_, POLLIN, 0};
      if (::poll(&w, 1, 100) > 0) return;
    }
  }
}

}  // namespace drover::platform
