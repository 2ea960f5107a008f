#include "platform/linux/run_command.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "platform/unique_fd.hpp"

extern char** environ;

namespace drover::platform {
namespace {

// posix_spawn's attributes and file actions, released on every path.
class spawn_setup {
 public:
  spawn_setup() {
    ::posix_spawnattr_init(&attr_);
    ::posix_spawn_file_actions_init(&actions_);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&attr_, &none);
    ::posix_spawnattr_setsigdefault(&attr_, &defaults);
    ::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~spawn_setup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;

  void dup_to(int fd, int target) { ::posix_spawn_file_actions_adddup2(&actions_, fd, target); }
  // 0 and the pid, or the error number.
  int spawn(const std::vector<std::string>& argv, pid_t& pid) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    return ::posix_spawnp(&pid, args[0], &actions_, &attr_, args.data(), environ);
  }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

bool make_pipe(unique_fd& read_end, unique_fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return false;
  read_end.reset(p[0]);
  write_end.reset(p[1]);
  return true;
}

}  // namespace

exec_result run_command(const std::vector<std::string>& argv, const std::string& input) {
  exec_result r;
  unique_fd in_read, in_write, out_read, out_write;
  if (!make_pipe(in_read, in_write) || !make_pipe(out_read, out_write)) {
    r.output = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  pid_t pid = -1;
  int rc = 0;
  {
    spawn_setup s;
    s.dup_to(in_read.get(), 0);
    s.dup_to(out_write.get(), 1);
    s.dup_to(out_write.get(), 2);
    rc = s.spawn(argv, pid);
  }
  in_read.reset();
  out_write.reset();
  if (rc != 0) {
    r.output = argv[0] + ": " + std::strerror(rc);
    return r;
  }
  r.started = true;
  // Small inputs (iptables-restore scripts) fit the pipe; the child reads
  // them before it says much.
  if (!input.empty()) (void)!::write(in_write.get(), input.data(), input.size());
  in_write.reset();
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out_read.get(), buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

result<int> start_command(const std::vector<std::string>& argv) {
  spawn_setup s;
  pid_t pid = -1;
  if (int rc = s.spawn(argv, pid); rc != 0)
    return make_error("spawn_failed", "cannot run " + argv[0] + ": " + std::strerror(rc));
  return static_cast<int>(pid);
}

}  // namespace drover::platform
