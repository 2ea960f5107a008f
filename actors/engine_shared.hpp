#pragma once
/// State shared between the control plane and the data-plane threads. Only
/// atomics and a short mutex: the hot path never sends a message.
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "core/config.hpp"

namespace drover {

/// The upstream as relays need it, resolved once per engine start.
struct upstream_info {
  endpoint proxy;
  bool auth = false;
  std::string login;
  std::string password;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds udp_timeout{5000};
  bool pipeline = false;  ///< send the whole SOCKS5 handshake at once (the probe found it works)
};

struct traffic_counters {
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<int64_t> tcp_flows{0};
  std::atomic<int64_t> udp_flows{0};
  std::atomic<uint64_t> redirected{0};
  std::atomic<uint64_t> direct{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> udp_dropped{0};
  std::atomic<uint64_t> next_flow_id{1};
};

class engine_shared {
 public:
  /// True only while Active: otherwise target flows are refused, never sent
  /// direct.
  std::atomic<bool> active{false};
  traffic_counters counters;
  /// Flows (TCP + UDP) the open-file limit allows, each holding about two
  /// descriptors, with a reserve for the engine's own; 0: no limit known.
  std::atomic<int64_t> max_flows{0};
  bool at_capacity() const {
    auto cap = max_flows.load(std::memory_order_relaxed);
    return cap > 0 &&
           counters.tcp_flows.load(std::memory_order_relaxed) + counters.udp_flows.load(std::memory_order_relaxed) >=
               cap;
  }

  void set_config(const config::config& c) {
    std::lock_guard<std::mutex> g(mu_);
    cfg_ = c;
  }
  config::config get_config() const {
    std::lock_guard<std::mutex> g(mu_);
    return cfg_;
  }
  bool is_target(const std::string& exe) const {
    std::lock_guard<std::mutex> g(mu_);
    return cfg_.is_target(exe);
  }
  void set_targets(std::vector<uint32_t> pids) {
    std::sort(pids.begin(), pids.end());
    std::lock_guard<std::mutex> g(mu_);
    pids_ = std::move(pids);
  }
  /// Adds a target found on the spot by the classifier.
  void add_target(uint32_t pid) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = std::lower_bound(pids_.begin(), pids_.end(), pid);
    if (it == pids_.end() || *it != pid) pids_.insert(it, pid);
  }
  std::vector<uint32_t> targets() const {
    std::lock_guard<std::mutex> g(mu_);
    return pids_;
  }
  void set_upstream(std::shared_ptr<const upstream_info> u) {
    std::lock_guard<std::mutex> g(mu_);
    upstream_ = std::move(u);
  }
  std::shared_ptr<const upstream_info> upstream() const {
    std::lock_guard<std::mutex> g(mu_);
    return upstream_;
  }

 private:
  mutable std::mutex mu_;
  config::config cfg_;
  std::vector<uint32_t> pids_;
  std::shared_ptr<const upstream_info> upstream_;
};

}  // namespace drover
