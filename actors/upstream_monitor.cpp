#include "actors/upstream_monitor.hpp"
#include "actors/exceptions.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "platform/upstream_probe.hpp"

namespace drover {
namespace {

struct watcher {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::unique_ptr<platform::upstream_watch> current;
  std::thread thread;
  ~watcher() {
    stop = true;
    {
      std::lock_guard<std::mutex> g(mu);
      if (current) current->cancel();
    }
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

upstream_monitor_actor::behavior_type upstream_monitor(upstream_monitor_actor::pointer self,
                                                       config::proxy_section proxy, supervisor_actor parent) {
  report_exceptions(self);
  auto w = std::make_shared<watcher>();
  auto* raw = w.get();
  w->thread = std::thread([raw, proxy, parent] {
    int failures = 0;
    while (!raw->stop) {
      auto watch = std::make_unique<platform::upstream_watch>();
      auto st = watch->open(proxy, std::chrono::milliseconds(2000));
      if (raw->stop) return;
      if (!st) {
        // One quick retry: an association the proxy closed for being idle
        // is not an outage.
        if (++failures >= 2) {
          caf::anon_send(parent, upstream_failure{"health", st.err().message, true});
          return;
        }
        continue;
      }
      failures = 0;
      {
        std::lock_guard<std::mutex> g(raw->mu);
        if (raw->stop) return;  // the destructor set stop before it could cancel us
        raw->current = std::move(watch);
      }
      raw->current->wait_closed();
      std::lock_guard<std::mutex> g(raw->mu);
      raw->current.reset();
    }
  });
  // On exit: cancel the association and join the thread.
  self->attach_functor([w]() mutable { w.reset(); });
  return {
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace drover
