#include "platform/main_loop.hpp"

#include <signal.h>
#include <time.h>

#include <atomic>

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

// A posted request waits here for the loop's next tick: signals are the
// loop's only wake-up, and a tick is short.
std::atomic<int> posted{static_cast<int>(os_request::none)};

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
    if (req == os_request::none) req = static_cast<os_request>(posted.exchange(static_cast<int>(os_request::none)));
    if (!on_request(req)) return;
  }
}

void post_main_loop(os_request r) { posted.store(static_cast<int>(r)); }

}  // namespace drover::platform
