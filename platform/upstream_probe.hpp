#pragma once
/// The upstream health check: TCP connect, greeting (and auth), UDP
/// ASSOCIATE, a real datagram through the relay, each step timed and each
/// bounded by the configured timeout. `drover check` and the engine's
/// pre-start check run this same code.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace drover::platform {

struct probe_step {
  /// "resolve", "tcp connect", "greeting", "authentication", "udp associate",
  /// "udp round trip", "pipelined handshake"
  std::string name;
  bool ok = false;
  double millis = 0;
  std::string detail;
};

struct probe_report {
  /// Everything tried passed: tcp_ok && udp_ok (tcp_ok alone when
  /// probe_options::udp is false).
  bool ok = false;
  bool tcp_ok = false;  ///< connect + greeting (+ auth) passed: chat will work
  /// UDP ASSOCIATE answered and a datagram went through the relay and back.
  bool udp_ok = false;
  /// !tcp_ok because the proxy cannot be reached (its name does not resolve,
  /// connect refused / timed out / unreachable, no answer or the connection
  /// closed during the greeting) rather than a definite configuration error
  /// (authentication rejected, a method we do not offer, not SOCKS5).
  bool unreachable = false;
  endpoint proxy;                   ///< the address tried (first of `addresses`)
  std::vector<endpoint> addresses;  ///< proxy.host resolved
  std::vector<probe_step> steps;
  std::string failure;      ///< one sentence naming the failed step
  std::string udp_failure;  ///< why UDP fails; empty if udp_ok
  double total_millis = 0;
  bool pipelining = false;  ///< a whole handshake in one write was answered
};

struct probe_options {
  /// false: only TCP connect and greeting (+ auth), one round trip: the
  /// engine's cheap liveness check. No ASSOCIATE, no datagram, no pipelining.
  bool udp = true;
  /// Also find out whether the proxy reads a pipelined handshake.
  bool pipelining = true;
};

/// Each step is bounded on its own: proxy.tcp_connect_timeout for the TCP
/// connect and for each of the greeting and authentication replies,
/// proxy.udp_associate_timeout for the ASSOCIATE reply and for the UDP round
/// trip. The pipelining attempt has its own short bound, scaled to how fast
/// the proxy answered.
probe_report probe_upstream(const config::proxy_section& proxy, probe_options opts = {});

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
  /// Connects and associates (DST in the proxy connection's family) within
  /// `budget` in all; the failure names the step.
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
