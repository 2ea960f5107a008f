#pragma once
/// The upstream health check: TCP connect, greeting (and auth), UDP
/// ASSOCIATE, each step timed, within one budget. `drover check` and the
/// engine's pre-start check run this same code.
#include <chrono>
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
};

probe_report probe_upstream(const config::proxy_section& proxy,
                            std::chrono::milliseconds budget = std::chrono::milliseconds(2000));

/// Resolves proxy.host (IP literal or name) to its addresses.
result<std::vector<endpoint>> resolve_host(const std::string& host, uint16_t port);

}  // namespace drover::platform
