#include "core/engine_fsm.hpp"

namespace drover::fsm {

const char* to_string(state s) {
  switch (s) {
    case state::idle:
      return "Idle";
    case state::starting:
      return "Starting";
    case state::active:
      return "Active";
    case state::reconnecting:
      return "Reconnecting";
    case state::failed:
      return "Failed";
  }
  return "?";
}

const char* to_string(event e) {
  static const char* names[] = {
      "start",        "checks_ok",   "checks_failed",   "checks_ok_no_udp", "proxy_unreachable", "proxy_healthy",
      "backoff_tick", "driver_lost", "driver_reopened", "driver_gone",      "exception",         "sleep",
      "resume",       "stop",        "retry",           "restart"};
  return names[static_cast<int>(e)];
}

const char* to_string(action a) {
  static const char* names[] = {"scan_processes",  "health_check",     "open_divert",        "close_divert",
                                "close_flows",     "remove_rules",     "schedule_backoff",   "probe_upstream",
                                "schedule_reopen", "write_crash_dump", "wait_default_route", "publish"};
  return names[static_cast<int>(a)];
}

namespace {

using secs = std::chrono::seconds;

struct builder {
  outcome out;
  explicit builder(const machine& m) { out.next = m; }
  builder& go(state s, std::string detail) {
    out.changed = out.changed || out.next.current != s || out.next.detail != detail;
    out.next.current = s;
    out.next.detail = std::move(detail);
    return *this;
  }
  builder& act(std::initializer_list<action> as) {
    out.actions.insert(out.actions.end(), as);
    return *this;
  }
  outcome done() {
    if (out.changed) out.actions.push_back(action::publish);
    return std::move(out);
  }
};

std::string span_text(secs s) {
  if (s.count() % 60 == 0) return std::to_string(s.count() / 60) + " min";
  return std::to_string(s.count()) + " s";
}

std::string attempt_detail(unsigned n) { return "reconnecting (attempt " + std::to_string(n) + ")"; }

// Active again after checks or a recovery; `udp` says whether the proxy
// relays UDP this time.
outcome to_active(const machine& m, bool udp) {
  builder b(m);
  b.out.next.attempt = 0;
  b.out.next.reconnect_since.reset();
  b.out.next.no_udp = !udp;
  return b.go(state::active, udp ? "" : no_udp_detail).done();
}

outcome to_reconnecting(const machine& m, clock::time_point now, const std::string& cause) {
  builder b(m);
  b.out.next.reconnect_since = now;
  b.out.next.attempt = 1;
  b.out.next.last_error = cause;
  return b.go(state::reconnecting, attempt_detail(1)).act({action::schedule_backoff}).done();
}

outcome to_failed(const machine& m, std::string cause) {
  builder b(m);
  b.out.next.last_error = cause;
  b.out.next.paused = false;
  b.out.next.reconnect_since.reset();
  return b.go(state::failed, std::move(cause))
      .act({action::close_flows, action::close_divert, action::remove_rules})
      .done();
}

outcome to_starting(const machine& m, bool after_resume) {
  builder b(m);
  b.out.next.paused = false;
  b.out.next.attempt = 0;
  b.out.next.reconnect_since.reset();
  b.go(state::starting, after_resume ? "resuming" : "starting");
  if (after_resume) b.act({action::wait_default_route});
  return b.act({action::scan_processes, action::health_check, action::open_divert}).done();
}

outcome reconnect_failed(const machine& m, clock::time_point now, const std::string& cause,
                         const recovery::backoff& policy) {
  auto since = m.reconnect_since.value_or(now);
  if (policy.exhausted(std::chrono::duration_cast<secs>(now - since)))
    return to_failed(
        m, "proxy unreachable for " + span_text(policy.total) + ": " + (cause.empty() ? m.last_error : cause));
  builder b(m);
  b.out.next.reconnect_since = since;
  b.out.next.attempt = m.attempt + 1;
  if (!cause.empty()) b.out.next.last_error = cause;
  return b.go(state::reconnecting, attempt_detail(b.out.next.attempt)).act({action::schedule_backoff}).done();
}

}  // namespace

outcome transition(const machine& m, event e, clock::time_point now, const std::string& cause,
                   const recovery::backoff& policy, const recovery::driver_loss_policy& dl) {
  const state s = m.current;
  auto unchanged = [&] { return outcome{m, {}, false}; };

  if (e == event::stop) {
    if (s == state::idle) return unchanged();
    builder b(m);
    b.out.next.paused = false;
    b.out.next.attempt = 0;
    b.out.next.reconnect_since.reset();
    return b.go(state::idle, "stopped").act({action::close_flows, action::close_divert, action::remove_rules}).done();
  }
  if (e == event::restart) {
    if (s == state::idle) return unchanged();
    // Flows and capture go, the rules stay: they are swapped in place when
    // the new ones are ready, so targets are refused, never direct, meanwhile.
    auto o = to_starting(m, false);
    o.actions.insert(o.actions.begin(), {action::close_flows, action::close_divert});
    return o;
  }
  if (e == event::exception && s != state::idle) {
    auto o = to_failed(m, "engine crashed: " + cause);
    o.actions.insert(o.actions.begin(), action::write_crash_dump);
    return o;
  }
  switch (s) {
    case state::idle:
      if (e == event::start) return to_starting(m, false);
      break;
    case state::failed:
      if (e == event::retry || e == event::start) return to_starting(m, false);
      break;
    case state::starting:
      if (e == event::checks_ok) return to_active(m, true);
      if (e == event::checks_ok_no_udp) return to_active(m, false);
      // Not reachable yet (boot before the network, a proxy started a
      // second later): keep trying, targets refused meanwhile.
      if (e == event::proxy_unreachable) return to_reconnecting(m, now, cause);
      if (e == event::checks_failed || e == event::driver_gone) return to_failed(m, cause);
      break;
    case state::active:
      if (e == event::proxy_unreachable) return to_reconnecting(m, now, cause);
      if (e == event::driver_lost) {
        if (dl.on_loss(m.last_driver_loss, now) == recovery::action::fail_stop)
          return to_failed(m, "driver lost twice within " + std::to_string(dl.window.count()) + " s: " + cause);
        builder b(m);
        b.out.next.last_driver_loss = now;
        b.out.next.last_error = cause;
        return b.go(state::active, "reopening driver").act({action::schedule_reopen}).done();
      }
      if (e == event::driver_reopened) return builder(m).go(state::active, m.no_udp ? no_udp_detail : "").done();
      // The proxy relays UDP again (checked now and then while without it).
      if (e == event::checks_ok && m.no_udp) return to_active(m, true);
      if (e == event::driver_gone) return to_failed(m, cause);
      if (e == event::sleep) {
        builder b(m);
        b.out.next.paused = true;
        return b.go(state::reconnecting, "paused (system sleep)")
            .act({action::close_flows, action::close_divert})
            .done();
      }
      break;
    case state::reconnecting:
      if (e == event::sleep && !m.paused) {
        builder b(m);
        b.out.next.paused = true;
        b.out.next.reconnect_since.reset();
        return b.go(state::reconnecting, "paused (system sleep)")
            .act({action::close_flows, action::close_divert})
            .done();
      }
      if (m.paused) {
        if (e == event::resume) return to_starting(m, true);
        break;  // no backoff while paused
      }
      if (e == event::backoff_tick) {
        auto since = m.reconnect_since.value_or(now);
        if (policy.exhausted(std::chrono::duration_cast<secs>(now - since)))
          return reconnect_failed(m, now, "", policy);
        return outcome{m, {action::probe_upstream}, false};
      }
      if (e == event::proxy_unreachable) return reconnect_failed(m, now, cause, policy);
      if (e == event::proxy_healthy) return to_active(m, true);
      if (e == event::checks_ok_no_udp) return to_active(m, false);
      if (e == event::driver_gone) return to_failed(m, cause);
      break;
  }
  return unchanged();
}

}  // namespace drover::fsm
