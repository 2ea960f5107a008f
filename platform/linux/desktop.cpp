// The desktop's side of the tray on Linux: xdg-open, and the user's state
// directory under XDG_STATE_HOME.
#include "platform/desktop.hpp"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "platform/paths.hpp"

extern char** environ;

namespace drover::platform {

status open_with_desktop(const std::string& path) {
  pid_t pid = 0;
  std::string prog = "xdg-open";
  char* argv[] = {prog.data(), const_cast<char*>(path.c_str()), nullptr};
  if (int rc = ::posix_spawnp(&pid, "xdg-open", nullptr, nullptr, argv, environ); rc != 0)
    return make_error("spawn_failed", std::string("cannot run xdg-open: ") + std::strerror(rc));
  // xdg-open hands the file over and exits; reap it so no zombie stays.
  std::thread([pid] {
    int ignored = 0;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
  }).detach();
  return ok();
}

result<std::string> user_state_dir() {
  std::string base;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && x[0] == '/') {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h && h[0] == '/') {
    base = std::string(h) + "/.local/state";
    ::mkdir((std::string(h) + "/.local").c_str(), 0700);
  } else {
    return make_error("not_found", "neither XDG_STATE_HOME nor HOME is set");
  }
  ::mkdir(base.c_str(), 0700);
  auto dir = base + "/drover";
  if (auto st = ensure_private_dir(dir, 0700); !st) return st.err();
  return dir;
}

bool tray_in_engine_process() { return false; }

}  // namespace drover::platform
