#pragma once
/// The upstream health check: TCP connect, greeting (and auth), UDP
/// ASSOCIATE, each step timed, within one budget. `drover check` and the
/// engine's pre-start check run this same code.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace drover::platform {

struct probe_step {
  std::string name;  ///< "resolve", "tcp connect", "greeting", "udp associate"
  bool ok = false;
  double millis = 0;
  std::string detail;
};

struct probe_report {
  bool ok = false;
  endpoint proxy;  ///< resolved address
  std::vector<probe_step> steps;
  std::string failure;  ///< one sentence naming the failed step
  double total_millis = 0;
  bool pipelining = false;  ///< a whole handshake in one write was answered
};

probe_report probe_upstream(const config::proxy_section& proxy,
                            std::chrono::milliseconds budget = std::chrono::milliseconds(2000));

/// Resolves proxy.host (IP literal or name) to its addresses.
result<std::vector<endpoint>> resolve_host(const std::string& host, uint16_t port);

}  // namespace drover::platform

namespace drover::platform {

/// One idle SOCKS5 UDP association kept open: when the proxy goes away, its
/// control connection closes and wait_closed() returns.
class upstream_watch {
 public:
  upstream_watch();
  ~upstream_watch();
  upstream_watch(const upstream_watch&) = delete;
  upstream_watch& operator=(const upstream_watch&) = delete;
  /// Connects and associates within `budget`; the failure names the step.
  status open(const config::proxy_section& proxy, std::chrono::milliseconds budget);
  /// Blocks until the proxy closes the association or cancel() is called.
  void wait_closed();
  /// Unblocks wait_closed() from another thread.
  void cancel();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace drover::platform
