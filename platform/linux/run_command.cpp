#include "platform/linux/run_command.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace drover::platform {

exec_result run_command(const std::vector<std::string>& argv, const std::string& input) {
  exec_result r;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0) {
    r.output = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  if (::pipe2(out, O_CLOEXEC) < 0) {
    r.output = std::string("pipe: ") + std::strerror(errno);
    ::close(in[0]);
    ::close(in[1]);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (rc == 0 && !input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  if (rc != 0) {
    r.output = argv[0] + ": " + std::strerror(rc);
    return r;
  }
  r.started = true;
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace drover::platform
