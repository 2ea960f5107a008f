#pragma once
/// The engine state machine (DESIGN.md §1 table) as a pure transition
/// function: (state, event, now) -> (state, actions). The supervisor actor
/// only carries out the actions.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/recovery.hpp"

namespace drover::fsm {

enum class state { idle, starting, active, reconnecting, failed };
const char* to_string(state s);

enum class event {
  start,             ///< user/CLI/tray asks to run
  checks_ok,         ///< scan + health check + divert open all succeeded
  checks_failed,     ///< a definite configuration error or the capture failed (detail = cause)
  checks_ok_no_udp,  ///< the proxy works for TCP but has no (working) UDP relay
  proxy_unreachable,
  proxy_healthy,
  backoff_tick,  ///< a backoff timer fired: probe again or give up
  driver_lost,
  driver_reopened,
  driver_gone,
  exception,
  sleep,
  resume,
  stop,
  retry,
  restart,  ///< onto new settings (config edit, the proxy moved): rules stay in place throughout
};
const char* to_string(event e);

/// Shown while Active with a proxy that relays TCP only.
constexpr const char* no_udp_detail = "the proxy has no UDP: voice will not work";

enum class action {
  scan_processes,
  health_check,
  open_divert,
  close_divert,
  close_flows,
  remove_rules,
  schedule_backoff,  ///< arm a timer for delay(attempt)
  probe_upstream,
  schedule_reopen,  ///< reopen the driver after 2 s
  write_crash_dump,
  wait_default_route,
  publish,
};
const char* to_string(action a);

using clock = std::chrono::steady_clock;

struct machine {
  state current = state::idle;
  bool paused = false;   ///< Reconnecting because of system sleep
  bool no_udp = false;   ///< Active for TCP only: target UDP refused
  unsigned attempt = 0;  ///< reconnect attempt number
  std::string detail;    ///< shown next to the state
  std::string last_error;
  std::optional<clock::time_point> reconnect_since;
  std::optional<clock::time_point> last_driver_loss;
};

struct outcome {
  machine next;
  std::vector<action> actions;
  bool changed = false;  ///< state or detail changed (publish to subscribers)
};

/// Applies one event. Events that do not apply in a state leave it as is.
outcome transition(const machine& m, event e, clock::time_point now, const std::string& cause = {},
                   const recovery::backoff& policy = {}, const recovery::driver_loss_policy& dl = {});

}  // namespace drover::fsm
