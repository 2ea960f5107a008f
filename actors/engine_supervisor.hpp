#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/engine_env.hpp"
#include "actors/engine_shared.hpp"
#include "core/engine_fsm.hpp"
#include "core/log_gate.hpp"
#include "core/transition_log.hpp"
#include "messages/messages.hpp"

namespace drover {

/// A re-read of the config file: the new config, or the error that keeps
/// the running one.
struct config_reload {
  std::optional<config::config> cfg;
  std::string error;
};

struct supervisor_options {
  std::string version;
  std::string crash_dir;  ///< where crash dumps go
  /// Re-reads the config file (hot reload); empty: no reload.
  std::function<config_reload()> reload;
};

/// The supervisor's state: the machine of core/engine_fsm plus what it owns.
struct supervisor_state {
  std::shared_ptr<engine_env> env;
  std::shared_ptr<engine_shared> shared;
  supervisor_options opts;
  fsm::machine m;
  recovery::backoff backoff;
  rules_keeper_actor keeper;            ///< rules and blocking scans, off this thread
  std::vector<endpoint> last_upstream;  ///< the proxy's addresses as last resolved (skipped by the rules)
  platform::redirect_plan redirect;     ///< what the rules keeper installs
  relay_host_actor relays;
  divert_reader_actor reader;
  procscan_actor scanner;
  upstream_monitor_actor monitor;
  fsm::clock::time_point active_since{};
  fsm::clock::time_point last_rx_change{};
  fsm::clock::time_point last_udp_check{};  ///< Active without UDP: when UDP was last tried again
  uint64_t last_rx = 0;
  uint64_t generation = 0;                               ///< bumps on every (re)start: stale replies are dropped
  std::optional<fsm::clock::time_point> route_deadline;  ///< resuming: waiting for a default route
  std::string config_error;
  /// Front ends (the control channel, the tray) told of every published
  /// change; monitored, dropped when they exit.
  std::vector<caf::actor> subscribers;
  transition_log transitions;  ///< the last 100 changes (dumps)
  e3_counters e3;
  /// Per-flow failures (a destination the proxy refuses, retried by the
  /// app): a few a minute reach the log, with a count of the others.
  log_gate flow_failures{5, std::chrono::minutes(1)};
  /// The last flow failure and when it came: it leaves last_error after a
  /// minute without another (if nothing else took its place meanwhile), so
  /// status does not keep an old complaint.
  std::string flow_error;
  std::optional<fsm::clock::time_point> flow_error_at;
  static inline const char* name = "engine_supervisor";
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

/// The engine's root: carries out the actions of core/engine_fsm, owns the
/// rules and the children, applies the E3 rules, heartbeat and hot reload.
supervisor_actor::behavior_type engine_supervisor(supervisor_pointer self, std::shared_ptr<engine_env> env,
                                                  std::shared_ptr<engine_shared> shared, supervisor_options opts);

/// Spawns it detached (it installs rules and resolves names, which block).
supervisor_actor spawn_engine_supervisor(caf::actor_system& sys, std::shared_ptr<engine_env> env,
                                         std::shared_ptr<engine_shared> shared, supervisor_options opts);

/// The status as the supervisor sees it now.
status_snapshot make_snapshot(supervisor_pointer self);

}  // namespace drover
