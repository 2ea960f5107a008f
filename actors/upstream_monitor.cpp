#include "actors/upstream_monitor.hpp"
#include "actors/exceptions.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "platform/upstream_probe.hpp"

namespace drover {
namespace {

struct watcher {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable wake;
  std::unique_ptr<platform::upstream_watch> current;
  std::thread thread;
  ~watcher() {
    {
      std::lock_guard<std::mutex> g(mu);
      stop = true;
      if (current) current->cancel();
    }
    wake.notify_all();
    if (thread.joinable()) thread.join();
  }
};

// TCP-only proxies: connect + greeting every 2 s; two failures in a row
// are an outage (one may be the proxy's own hiccup).
void poll_tcp(watcher* w, const config::proxy_section& proxy, const supervisor_actor& parent) {
  int failures = 0;
  platform::probe_options tcp_only;
  tcp_only.udp = false;
  tcp_only.pipelining = false;
  while (true) {
    {
      std::unique_lock<std::mutex> g(w->mu);
      w->wake.wait_for(g, std::chrono::seconds(2), [w] { return w->stop.load(); });
      if (w->stop) return;
    }
    auto rep = platform::probe_upstream(proxy, tcp_only);
    if (w->stop) return;
    if (rep.tcp_ok) {
      failures = 0;
    } else if (++failures >= 2) {
      caf::anon_send(parent, upstream_failure{"health", rep.failure, true});
      return;
    }
  }
}

// A UDP association held open: its control connection closing is the
// proxy going away.
void hold_association(watcher* w, const config::proxy_section& proxy, const supervisor_actor& parent) {
  int failures = 0;
  while (!w->stop) {
    auto watch = std::make_unique<platform::upstream_watch>();
    auto st = watch->open(proxy, std::max(proxy.tcp_connect_timeout, proxy.udp_associate_timeout));
    if (w->stop) return;
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
      std::lock_guard<std::mutex> g(w->mu);
      if (w->stop) return;  // the destructor set stop before it could cancel us
      w->current = std::move(watch);
    }
    w->current->wait_closed();
    std::lock_guard<std::mutex> g(w->mu);
    w->current.reset();
  }
}

}  // namespace

upstream_monitor_actor::behavior_type upstream_monitor(upstream_monitor_actor::pointer self,
                                                       config::proxy_section proxy, supervisor_actor parent, bool udp) {
  report_exceptions(self);
  auto w = std::make_shared<watcher>();
  w->thread = std::thread(udp ? hold_association : poll_tcp, w.get(), proxy, parent);
  // On exit: cancel the association (or the TCP checks) and join the thread.
  self->attach_functor([w]() mutable { w.reset(); });
  return {
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace drover
