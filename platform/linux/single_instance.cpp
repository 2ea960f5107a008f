// Two locks, both scoped to the network namespace (exactly the scope of the
// rules and the queue) and freed by the kernel however the holder dies
// (SIGKILL included):
// - as root, an open-file-description lock on /run/drover-engine-netns-INODE.lock:
//   /run is root's, so no other user can take it first. It decides.
// - a listening socket bound to an abstract Unix name: any local user may
//   bind that name, so it only tells who holds the lock (its SO_PEERCRED
//   pid); a squatter there is ignored by root.
#include "platform/single_instance.hpp"
#include "platform/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace drover::platform {

struct single_instance::impl {
  unique_fd listener;   ///< the abstract name, -1 when squatted
  unique_fd wake;       ///< ends serve()
  unique_fd file_lock;  ///< the namespace lock (root), -1 if none
  std::thread thread;
  ~impl();
  void serve();
};

namespace {

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
  unique_fd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
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

// The namespace lock's file, or empty when not root (development runs keep
// the abstract name alone).
std::string netns_lock_path(const std::string& name) {
  struct stat st {};
  if (::geteuid() != 0 || ::stat("/proc/self/ns/net", &st) != 0) return "";
  return "/run/" + name + "-netns-" + std::to_string(st.st_ino) + ".lock";
}

// Takes it (fd >= 0), or says who holds it. The holder writes its pid in.
result<int> take_netns_lock(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return make_error("lock", "cannot open " + path + ": " + std::strerror(errno));
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd.get(), F_OFD_SETLK, &fl) != 0) {
    if (errno != EAGAIN && errno != EACCES)
      return make_error("lock", "cannot lock " + path + ": " + std::strerror(errno));
    char buf[32] = {};
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
    return make_error("already_running",
                      pid > 0 ? "already running (pid " + std::to_string(pid) + ")" : std::string("already running"));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only the message of a second run suffers.
  }
  return fd.release();
}

// Whether the namespace lock is held, without taking it: F_OFD_GETLK tests.
bool netns_lock_held(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return false;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  return ::fcntl(fd.get(), F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

}  // namespace

result<std::unique_ptr<single_instance>> single_instance::acquire(const std::string& name) {
  sockaddr_un sa;
  if (name.empty() || name.size() + 1 > sizeof sa.sun_path) return make_error("lock", "bad lock name: " + name);
  socklen_t len = abstract_addr(name, sa);
  int file_fd = -1;
  if (auto path = netns_lock_path(name); !path.empty()) {
    auto taken = take_netns_lock(path);
    if (!taken) return taken.err();
    file_fd = *taken;
  }
  unique_fd file_lock(file_fd);
  int err = 0;
  // A holder that is exiting (or has bound but not yet listens) refuses
  // connections for a moment: try again rather than report a false owner.
  for (int attempt = 0; attempt < 100; ++attempt) {
    unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
    if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&sa), len) == 0) {
      if (::listen(s.get(), 16) < 0)
        return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
      unique_fd wake(::eventfd(0, EFD_CLOEXEC));
      if (wake.get() < 0)
        return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
      auto i = std::make_unique<single_instance::impl>();
      i->listener = std::move(s);
      i->wake = std::move(wake);
      i->file_lock = std::move(file_lock);
      i->thread = std::thread([p = i.get()] { p->serve(); });
      return std::make_unique<single_instance>(std::move(i));
    }
    if (errno != EADDRINUSE)
      return make_error("lock", std::string("cannot take the engine lock: ") + std::strerror(errno));
    pid_t pid = 0;
    uid_t uid = 0;
    switch (ask_holder(sa, len, pid, uid, err)) {
      case holder_answer::pid_known:
        // An engine runs as root; any user can bind the name first, though,
        // and that must not pass for a running engine.
        // The namespace lock is ours: another user's squatter on the name
        // only costs the name (a second run then learns no pid from it).
        if (file_lock.get() >= 0 && uid != 0) {
          auto i = std::make_unique<single_instance::impl>();
          i->file_lock = std::move(file_lock);
          auto lock = std::make_unique<single_instance>(std::move(i));
          lock->squatter_ = "the name @" + name + " is held by pid " + std::to_string(pid) + " of uid " +
                            std::to_string(uid) + ", not an engine: ignored";
          return lock;
        }
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
  auto path = netns_lock_path(name);
  if (!path.empty() && !netns_lock_held(path)) return "";  // a squatter on the name is no engine
  switch (ask_holder(sa, len, pid, uid, err)) {
    case holder_answer::pid_known:
      if (!path.empty() && uid != 0) return "an engine (its name is squatted by uid " + std::to_string(uid) + ")";
      return pid > 0 ? "pid " + std::to_string(pid) : std::string("a process in another PID namespace");
    case holder_answer::other:
      return err == EAGAIN ? "a process whose lock does not answer" : "";
    case holder_answer::refused:
      break;
  }
  return "";
}

single_instance::single_instance(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
single_instance::~single_instance() = default;

single_instance::impl::~impl() {
  if (thread.joinable()) {
    uint64_t one = 1;
    (void)!::write(wake.get(), &one, sizeof one);
    thread.join();
  }
}

bool second_run_activates_first() { return false; }

// Accepts and closes: the asker already has our pid from the connection.
// Without this its connection would sit in the backlog, and once that is
// full the next asker could not tell who holds the lock.
void single_instance::impl::serve() {
  while (true) {
    pollfd p[2] = {{listener.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      ::close(c);
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
      // Out of descriptors: do not spin on a listener that stays readable.
      pollfd w{wake.get(), POLLIN, 0};
      if (::poll(&w, 1, 100) > 0) return;
    }
  }
}

}  // namespace drover::platform
