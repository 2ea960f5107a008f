#include "platform/main_loop.hpp"

#include <signal.h>
#include <time.h>

#include <deque>
#include <mutex>

namespace drover::platform {
namespace {

sigset_t stop_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGHUP);
  return s;
}

// Posted requests wait here, in order, for the loop's next tick: signals
// are the loop's only wake-up, and a tick is short.
std::mutex mutex;
std::deque<os_request> posted;  // guarded by mutex

os_request next_posted() {
  std::lock_guard<std::mutex> lock(mutex);
  if (posted.empty()) return os_request::none;
  os_request r = posted.front();
  posted.pop_front();
  return r;
}

}  // namespace

void prepare_main_thread() {
  sigset_t s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void run_main_loop(const std::function<bool(os_request)>& on_request, int tick_ms) {
  sigset_t s = stop_set();
  while (true) {
    timespec ts{tick_ms / 1000, (tick_ms % 1000) * 1000000L};
    int sig = sigtimedwait(&s, nullptr, &ts);
    auto req = sig == SIGHUP ? os_request::reload : sig > 0 ? os_request::stop : os_request::none;
    if (req != os_request::none && !on_request(req)) return;
    do {
      req = next_posted();
      if (!on_request(req)) return;
    } while (req != os_request::none);
  }
}

void post_main_loop(os_request r) {
  std::lock_guard<std::mutex> lock(mutex);
  posted.push_back(r);
}

}  // namespace drover::platform
