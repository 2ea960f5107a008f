#pragma once
/// State shared between the control plane and the data-plane threads. Only
/// atomics and a short mutex: the hot path never sends a message.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/address.hpp"
#include "core/config.hpp"
#include "core/transition_log.hpp"
#include "messages/messages.hpp"

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
  std::atomic<uint64_t> unattributed{0};  ///< owner not determinable: refused, never direct
  std::atomic<uint64_t> flows_failed{0};  ///< the proxy refused or could not reach the destination
  std::atomic<uint64_t> next_flow_id{1};
};

/// One relayed flow while it is open, as the diagnostics dump lists it. The
/// session fills in the byte counts on the data-plane thread (one writer,
/// relaxed stores); a dump reads them from another.
struct flow_entry {
  uint64_t id = 0;
  const char* protocol = "tcp";  ///< "tcp" or "udp"
  endpoint client;               ///< the app's socket as the listener saw it
  endpoint destination;          ///< where the app sent it (UDP: its first datagram)
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
  std::atomic<uint64_t> bytes_in{0};   ///< to the app
  std::atomic<uint64_t> bytes_out{0};  ///< from the app
};

/// The relays' live flows: one lock per flow opened and closed, none per
/// byte.
class flow_list {
 public:
  void add(std::shared_ptr<flow_entry> f) {
    std::lock_guard<std::mutex> g(mu_);
    auto id = f->id;
    flows_[id] = std::move(f);
  }
  void remove(uint64_t id) {
    std::lock_guard<std::mutex> g(mu_);
    flows_.erase(id);
  }
  /// Every open flow, oldest (lowest id) first.
  std::vector<std::shared_ptr<const flow_entry>> live() const {
    std::vector<std::shared_ptr<const flow_entry>> out;
    {
      std::lock_guard<std::mutex> g(mu_);
      out.reserve(flows_.size());
      for (auto& kv : flows_) out.push_back(kv.second);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<flow_entry>> flows_;
};

/// The E3 rules at work since the engine started.
struct e3_counters {
  uint64_t reconnects = 0;      ///< times the proxy was lost and Reconnecting began (not sleep pauses)
  uint64_t driver_reopens = 0;  ///< captures lost and reopened (E3: one reopen in 30 s)
  uint64_t crash_dumps = 0;     ///< crash dumps written (exceptions)
};

/// What the supervisor went through, published with every change.
struct engine_history {
  std::vector<transition_record> transitions;  ///< the last 100, oldest first
  e3_counters e3;
};

class engine_shared {
 public:
  /// True only while Active: otherwise target flows are refused, never sent
  /// direct.
  std::atomic<bool> active{false};
  /// False while the proxy has no working UDP relay: target UDP is refused
  /// (never direct) while TCP is still proxied.
  std::atomic<bool> udp_available{true};
  traffic_counters counters;
  /// The relays' open flows (for the diagnostics dump).
  flow_list flows;
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
  /// A scan's result. Targets the classifier found in the last 5 s stay:
  /// the scan may have read /proc before they started, and dropping them
  /// would make their next flows look like nobody's.
  void set_targets(std::vector<uint32_t> pids) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> g(mu_);
    recent_.erase(std::remove_if(recent_.begin(), recent_.end(),
                                 [&](const auto& r) { return now - r.second > std::chrono::seconds(5); }),
                  recent_.end());
    for (auto& r : recent_) pids.push_back(r.first);
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    pids_ = std::move(pids);
  }
  /// Adds a target found on the spot by the classifier.
  void add_target(uint32_t pid) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = std::lower_bound(pids_.begin(), pids_.end(), pid);
    if (it == pids_.end() || *it != pid) {
      pids_.insert(it, pid);
      recent_.emplace_back(pid, std::chrono::steady_clock::now());
    }
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

  /// A config problem found at start (a broken file: running with
  /// defaults) stays in status until a good config is loaded; empty: none.
  void set_config_problem(std::string p) {
    std::lock_guard<std::mutex> g(mu_);
    config_problem_ = std::move(p);
  }
  std::string config_problem() const {
    std::lock_guard<std::mutex> g(mu_);
    return config_problem_;
  }

  /// The supervisor publishes its view on every change; status() answers
  /// from it at once, whatever the supervisor is busy with.
  void publish_status(status_snapshot s, std::chrono::steady_clock::time_point active_since) {
    std::lock_guard<std::mutex> g(mu_);
    status_ = std::move(s);
    active_since_ = active_since;
  }
  /// The supervisor's transitions and E3 counters, for the dump.
  void publish_history(engine_history h) {
    std::lock_guard<std::mutex> g(mu_);
    history_ = std::move(h);
  }
  engine_history history() const {
    std::lock_guard<std::mutex> g(mu_);
    return history_;
  }

  /// The last published state with live counters and uptime.
  status_snapshot status() const {
    status_snapshot s;
    std::chrono::steady_clock::time_point since;
    {
      std::lock_guard<std::mutex> g(mu_);
      s = status_;
      s.target_pids = pids_;
      since = active_since_;
    }
    if (s.state.empty()) s.state = "Idle";
    if (s.state == "Active")
      s.uptime_s = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - since).count());
    fill_counters(s);
    return s;
  }
  void fill_counters(status_snapshot& s) const {
    auto& c = counters;
    s.bytes_in = c.bytes_in;
    s.bytes_out = c.bytes_out;
    s.tcp_flows = c.tcp_flows;
    s.udp_flows = c.udp_flows;
    s.flows_redirected = c.redirected;
    s.flows_direct = c.direct;
    s.flows_refused = c.refused;
    s.udp_dropped = c.udp_dropped;
    s.flows_unattributed = c.unattributed;
    s.flows_failed = c.flows_failed;
  }

 private:
  mutable std::mutex mu_;
  config::config cfg_;
  std::vector<uint32_t> pids_;
  std::vector<std::pair<uint32_t, std::chrono::steady_clock::time_point>> recent_;  ///< added by add_target
  std::shared_ptr<const upstream_info> upstream_;
  status_snapshot status_;
  engine_history history_;
  std::string config_problem_;
  std::chrono::steady_clock::time_point active_since_{};
};

}  // namespace drover
