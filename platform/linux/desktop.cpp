// The desktop's side of the tray on Linux: xdg-open, and the user's state
// directory under XDG_STATE_HOME.
#include "platform/desktop.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>

#include "platform/linux/run_command.hpp"
#include "platform/paths.hpp"

namespace drover::platform {

namespace {

// What xdg-open's exit status means (xdg-utils' manual).
std::string xdg_open_failure(int code) {
  switch (code) {
    case 2:
      return "the file does not exist";
    case 3:
      return "no program to open it was found (xdg-open: a required tool is missing)";
    case 4:
      return "the desktop found no program for this kind of file";
    default:
      return "xdg-open failed (exit " + std::to_string(code) + ")";
  }
}

}  // namespace

status open_with_desktop(const std::string& path) {
  // An absolute path only: a relative one would be the tray's, not the
  // engine's, and one starting with '-' an option of xdg-open's.
  if (path.empty() || path[0] != '/') return make_error("bad_path", "not an absolute path: " + path);
  // What it opens must not inherit the tray's blocked stop signals and
  // ignored SIGPIPE: start_command gives it a clean signal state.
  auto started = start_command({"xdg-open", path});
  if (!started) return started.err();
  pid_t pid = *started;
  // xdg-open hands the file over and exits: its answer within a second says
  // whether that worked; one still running then has started a program.
  for (int waited_ms = 0; waited_ms < 1000; waited_ms += 20) {
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return ok();
      return make_error("open_failed", WIFEXITED(st) ? xdg_open_failure(WEXITSTATUS(st)) : "xdg-open was killed");
    }
    if (r < 0 && errno != EINTR) return ok();
    ::usleep(20000);
  }
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
