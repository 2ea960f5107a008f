#include "platform/signals.hpp"

#include <signal.h>
#include <time.h>

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
}  // namespace

void block_stop_signals() {
  sigset_t s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  // A client that goes away must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
}

os_request wait_os_request(int timeout_ms) {
  sigset_t s = stop_set();
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  int sig = sigtimedwait(&s, nullptr, &ts);
  if (sig == SIGHUP) return os_request::reload;
  return sig > 0 ? os_request::stop : os_request::none;
}

}  // namespace drover::platform
