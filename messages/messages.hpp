#pragma once
/// Every typed message and actor interface of Drover, in one type-ID block.
/// Only control-plane events travel as messages: no message per packet.
#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace drover {

/// What `drover status` shows; also what the tray will render.
struct status_snapshot {
  std::string state;  ///< Idle | Starting | Active | Reconnecting | Failed
  std::string detail;
  uint64_t uptime_s = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t tcp_flows = 0;
  int64_t udp_flows = 0;
  std::vector<uint32_t> target_pids;
  uint32_t reconnect_attempt = 0;
  std::string last_error;
  uint64_t flows_redirected = 0;
  uint64_t flows_direct = 0;
  uint64_t flows_refused = 0;
  uint64_t udp_dropped = 0;         ///< fragmented, malformed, oversized or over-queue datagrams
  uint64_t flows_unattributed = 0;  ///< first packets whose owner could not be determined (refused)
  uint64_t flows_failed = 0;        ///< redirected flows the proxy refused or could not carry
  bool udp_available = true;        ///< false: the proxy has no working UDP relay (target UDP refused)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_snapshot& x) {
  return f(caf::meta::type_name("status_snapshot"), x.state, x.detail, x.uptime_s, x.bytes_in, x.bytes_out, x.tcp_flows,
           x.udp_flows, x.target_pids, x.reconnect_attempt, x.last_error, x.flows_redirected, x.flows_direct,
           x.flows_refused, x.udp_dropped, x.flows_unattributed, x.flows_failed, x.udp_available);
}

/// A relay could not use the upstream (relay -> supervisor). `unreachable`
/// means the proxy itself did not answer (E3: proxy unreachable).
struct upstream_failure {
  std::string step;
  std::string message;
  bool unreachable = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, upstream_failure& x) {
  return f(caf::meta::type_name("upstream_failure"), x.step, x.message, x.unreachable);
}

/// The capture handle failed (divert_reader -> supervisor). `gone` means it
/// cannot be reopened (E3: driver gone), otherwise driver lost.
struct divert_lost {
  std::string message;
  bool gone = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, divert_lost& x) {
  return f(caf::meta::type_name("divert_lost"), x.message, x.gone);
}

/// A health probe's verdict (probe -> supervisor).
struct probe_result {
  bool ok = false;  ///< everything passed: TCP and a UDP round trip
  std::string failure;
  uint64_t generation = 0;             ///< which engine start asked (stale answers are dropped)
  bool pipelining = false;             ///< the proxy takes a whole handshake in one write
  bool tcp_ok = false;                 ///< connect + greeting (+ auth) passed: TCP can be proxied
  bool udp_ok = false;                 ///< UDP ASSOCIATE and a datagram round trip passed
  bool unreachable = false;            ///< !tcp_ok because the proxy could not be reached (not a config error)
  std::vector<std::string> addresses;  ///< proxy.host resolved (address literals)
  std::string udp_failure;             ///< why UDP does not work
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, probe_result& x) {
  return f(caf::meta::type_name("probe_result"), x.ok, x.failure, x.generation, x.pipelining, x.tcp_ok, x.udp_ok,
           x.unreachable, x.addresses, x.udp_failure);
}

/// What the rules keeper is to install (supervisor -> keeper): the
/// OS-neutral inputs and the Linux listener ports. Passed by pointer.
struct rules_plan;
using rules_plan_ptr = std::shared_ptr<const rules_plan>;

/// A per-flow relay finished (relay -> itself, from the Asio thread).
struct relay_closed {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::string error;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, relay_closed& x) {
  return f(caf::meta::type_name("relay_closed"), x.bytes_in, x.bytes_out, x.error);
}

}  // namespace drover

CAF_BEGIN_TYPE_ID_BLOCK(drover, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(drover, (drover::status_snapshot))
CAF_ADD_TYPE_ID(drover, (drover::upstream_failure))
CAF_ADD_TYPE_ID(drover, (drover::divert_lost))
CAF_ADD_TYPE_ID(drover, (drover::probe_result))
CAF_ADD_TYPE_ID(drover, (drover::relay_closed))
CAF_ADD_TYPE_ID(drover, (drover::rules_plan_ptr))
CAF_ADD_ATOM(drover, drover, start_atom, "start")
CAF_ADD_ATOM(drover, drover, stop_atom, "stop")
CAF_ADD_ATOM(drover, drover, retry_atom, "retry")
CAF_ADD_ATOM(drover, drover, status_atom, "status")
CAF_ADD_ATOM(drover, drover, scan_atom, "scan")
CAF_ADD_ATOM(drover, drover, tick_atom, "tick")
CAF_ADD_ATOM(drover, drover, reopen_atom, "reopen")
CAF_ADD_ATOM(drover, drover, sleep_atom, "sleep")
CAF_ADD_ATOM(drover, drover, resume_atom, "resume")
CAF_ADD_ATOM(drover, drover, close_atom, "close")
CAF_ADD_ATOM(drover, drover, ports_atom, "ports")
CAF_ADD_ATOM(drover, drover, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(drover, drover, watch_atom, "watch")
CAF_ADD_ATOM(drover, drover, reload_atom, "reload")
CAF_ADD_ATOM(drover, drover, install_atom, "install")
CAF_ADD_ATOM(drover, drover, remove_atom, "remove")
CAF_ADD_ATOM(drover, drover, intact_atom, "intact")
CAF_ADD_ATOM(drover, drover, click_atom, "click")
CAF_ADD_ATOM(drover, drover, answer_atom, "answer")
CAF_ADD_ATOM(drover, drover, menu_atom, "menu")
CAF_ADD_ATOM(drover, drover, subscribe_atom, "subscribe")
CAF_END_TYPE_ID_BLOCK(drover)

// Local only: a plan never leaves the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(drover::rules_plan_ptr)

namespace drover {

/// The engine's root: state machine, E3 rules, children. `subscribe`: the
/// actor gets a status_snapshot on every published change until it exits
/// (it is monitored and then dropped).
using supervisor_actor =
    caf::typed_actor<caf::reacts_to<start_atom>, caf::replies_to<stop_atom>::with<bool>, caf::reacts_to<retry_atom>,
                     caf::replies_to<status_atom>::with<status_snapshot>, caf::reacts_to<upstream_failure>,
                     caf::reacts_to<divert_lost>, caf::reacts_to<probe_result>, caf::reacts_to<tick_atom>,
                     caf::reacts_to<reopen_atom>, caf::reacts_to<sleep_atom>, caf::reacts_to<resume_atom>,
                     caf::reacts_to<heartbeat_atom>, caf::reacts_to<reload_atom>,
                     caf::reacts_to<subscribe_atom, caf::actor>>;

/// Holds one idle UDP association open; its loss triggers a probe.
using upstream_monitor_actor = caf::typed_actor<caf::reacts_to<close_atom>>;

/// Polls the config file and reports changes.
using config_watch_actor = caf::typed_actor<caf::reacts_to<watch_atom>>;

/// Periodic process scan (2 s) publishing target PIDs.
using procscan_actor = caf::typed_actor<caf::reacts_to<scan_atom>>;

/// Owns the capture thread; reports loss to its supervisor.
using divert_reader_actor = caf::typed_actor<caf::reacts_to<close_atom>>;

/// Owns the data-plane thread and the redirect listeners; spawns relays.
/// `ports` answers the TCP and UDP listener ports the rules point at.
using relay_host_actor =
    caf::typed_actor<caf::reacts_to<close_atom>, caf::replies_to<ports_atom>::with<uint16_t, uint16_t>>;

/// Does the engine's blocking OS work away from the supervisor (which must
/// always answer at once): installs, checks and removes the redirect rules,
/// scans processes. Owns the rules; removes them when it exits.
using rules_keeper_actor =
    caf::typed_actor<caf::replies_to<install_atom, rules_plan_ptr>::with<bool>,
                     caf::replies_to<remove_atom>::with<bool>, caf::replies_to<intact_atom>::with<bool>,
                     caf::replies_to<scan_atom>::with<bool>>;

/// The tray: renders what the engine says (a status JSON line, pushed on
/// every change and polled every second for the rates), turns a picked menu
/// item (its tray::item_id as int) into a control request, and shows each
/// request's answer. `menu` says whether the menu is open.
using tray_actor = caf::typed_actor<caf::reacts_to<status_atom, std::string>, caf::reacts_to<click_atom, int32_t>,
                                    caf::reacts_to<answer_atom, std::string, std::string>,
                                    caf::reacts_to<menu_atom, bool>, caf::reacts_to<tick_atom>>;

/// One per redirected TCP / UDP flow.
using flow_relay_actor = caf::typed_actor<caf::reacts_to<relay_closed>, caf::reacts_to<close_atom>>;

}  // namespace drover
