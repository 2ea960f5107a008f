#include "actors/engine_supervisor.hpp"
#include "actors/exceptions.hpp"

#include "actors/rules_keeper.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

namespace drover {
namespace {

using self_ptr = supervisor_pointer;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string wall_time() { return iso8601_utc(std::chrono::system_clock::now()); }

fsm::clock::time_point now(self_ptr self) { return self->clock().now(); }
supervisor_actor me(self_ptr self) { return caf::actor_cast<supervisor_actor>(self); }

void apply(self_ptr self, fsm::event e, const std::string& cause = {});

template <class Handle>
void stop_child(self_ptr self, Handle& h) {
  if (h) {
    self->demonitor(h.address());
    self->send_exit(h, caf::exit_reason::user_shutdown);
    h = Handle{};
  }
}

template <class Handle>
Handle watched(self_ptr self, Handle h) {
  if (h) self->monitor(h);
  return h;
}

void apply_engine_settings(self_ptr self, const config::config& cfg) {
  auto& b = self->state.backoff;
  b.initial = std::max(seconds(1), std::chrono::duration_cast<seconds>(cfg.engine.reconnect_backoff_initial));
  b.cap = std::max(b.initial, std::chrono::duration_cast<seconds>(cfg.engine.reconnect_backoff_max));
  b.total = std::chrono::duration_cast<seconds>(cfg.engine.reconnect_total_cap);
}

// Rules (in the keeper, off this thread), then the capture; `then` runs
// once both are in place, on failure the capture error is applied.
template <class Then>
void install(self_ptr self, Then then) {
  auto& st = self->state;
  auto plan = std::make_shared<rules_plan>();
  plan->redirect = st.redirect;
  auto gen = st.generation;
  self->request(st.keeper, caf::infinite, install_atom_v, rules_plan_ptr(std::move(plan)))
      .then(
          [self, gen, then](bool) {
            auto& st = self->state;
            if (gen != st.generation) return;
            st.reader = watched(self, st.env->spawn_reader(self->system(), st.shared, me(self)));
            then();
          },
          [self, gen](caf::error& err) {
            if (gen == self->state.generation) apply(self, fsm::event::driver_gone, error_text(self->system(), err));
          });
}

// Starting: relays and listeners, rules and capture (targets refused until
// Active), then the health probe, which also resolves proxy.host: a name
// that does not resolve yet must not keep the rules out (targets would go
// direct meanwhile), so the rules skip the addresses last known, if any;
// Drover's own sockets are exempt by their mark either way.
void open_divert(self_ptr self) {
  auto& st = self->state;
  auto cfg = st.shared->get_config();
  auto& in = st.redirect.inputs;
  in = filter::inputs{};
  in.own_pid = st.env->own_pid();
  in.upstream = st.last_upstream;
  in.extra_skip = cfg.skip.extra_skip_cidrs;
  in.skip_multicast = cfg.skip.multicast;
  st.relays = watched(self, st.env->spawn_relays(self->system(), st.shared, me(self)));
  auto gen = st.generation;
  self->request(st.relays, caf::infinite, ports_atom_v)
      .then(
          [self, gen, cfg](uint16_t tcp_port, uint16_t udp_port) {
            auto& st = self->state;
            if (gen != st.generation || st.m.current != fsm::state::starting) return;
            st.redirect.tcp_port = tcp_port;
            st.redirect.udp_port = udp_port;
            install(self, [self, gen, cfg] { self->state.env->probe(self->system(), cfg.proxy, me(self), gen); });
          },
          [self, gen](caf::error& err) {
            if (gen == self->state.generation) apply(self, fsm::event::checks_failed, error_text(self->system(), err));
          });
}

// The relays' view of the proxy, from what the probe resolved.
void use_upstream(self_ptr self, const std::vector<endpoint>& addrs) {
  auto& st = self->state;
  if (addrs.empty()) return;
  st.last_upstream = addrs;
  auto cfg = st.shared->get_config();
  auto up = std::make_shared<upstream_info>();
  if (auto cur = st.shared->upstream()) *up = *cur;
  up->proxy = addrs.front();
  up->auth = cfg.proxy.auth;
  up->login = cfg.proxy.login;
  up->password = cfg.proxy.password;
  up->connect_timeout = cfg.proxy.tcp_connect_timeout;
  up->udp_timeout = cfg.proxy.udp_associate_timeout;
  st.shared->set_upstream(std::move(up));
}

std::vector<endpoint> parse_addresses(const std::vector<std::string>& in, uint16_t port) {
  std::vector<endpoint> out;
  for (auto& a : in)
    if (auto e = parse_ip(a, port)) out.push_back(*e);
  return out;
}

// What the latest successful probe learnt about the proxy's reading habits.
void use_pipelining(self_ptr self, bool on) {
  auto& st = self->state;
  auto up = st.shared->upstream();
  if (!up) return;
  if (up->pipeline != on || st.m.current == fsm::state::starting)
    spdlog::info("SOCKS5 handshakes {}",
                 on ? "pipelined (the proxy reads ahead)" : "step by step (the proxy does not read ahead)");
  if (up->pipeline == on) return;
  auto changed = std::make_shared<upstream_info>(*up);
  changed->pipeline = on;
  st.shared->set_upstream(std::move(changed));
}

// Resuming: wait for a default route (at most 5 s), then the Starting path.
void open_when_routed(self_ptr self) {
  auto& st = self->state;
  if (st.route_deadline && !st.env->has_default_route() && now(self) < *st.route_deadline) {
    self->delayed_send(self, milliseconds(250), resume_atom_v);
    return;
  }
  st.route_deadline.reset();
  open_divert(self);
}

// What `status` answers from (the control channel never asks the actor).
status_snapshot share_status(self_ptr self) {
  auto snap = make_snapshot(self);
  self->state.shared->publish_status(snap, self->state.active_since);
  return snap;
}

// What the dump shows of the supervisor's past (the control channel never
// asks the actor).
void share_history(self_ptr self) {
  auto& st = self->state;
  st.shared->publish_history({st.transitions.items(), st.e3});
}

// One change for the history: `from` -> the state now, with why.
void record(self_ptr self, fsm::state from, const char* event, const std::string& cause) {
  auto& st = self->state;
  auto to = st.m.current;
  // A pause for system sleep is no lost proxy.
  if (to == fsm::state::reconnecting && from != to && !st.m.paused) ++st.e3.reconnects;
  st.transitions.add({wall_time(), fsm::to_string(from), fsm::to_string(to), event, cause, st.m.detail});
  share_history(self);
}

void publish(self_ptr self) {
  auto& st = self->state;
  spdlog::info("engine: {}{}{}", fsm::to_string(st.m.current), st.m.detail.empty() ? "" : " (" + st.m.detail + ")",
               st.m.last_error.empty() ? "" : " — " + st.m.last_error);
  auto snap = share_status(self);
  // Subscribers are dynamically typed front ends: sent without a sender.
  for (auto& s : st.subscribers) caf::anon_send(s, snap);
}

void write_crash_dump(self_ptr self, const std::string& cause) {
  auto& st = self->state;
  std::ostringstream os;
  os << "Drover crash dump\ntime: " << wall_time() << "\nversion: " << st.opts.version
     << "\nstate: " << fsm::to_string(st.m.current) << "\ncause: " << cause << "\nstate history:\n";
  for (auto& t : st.transitions.items()) {
    os << "  " << t.time << " " << t.from << " -> " << t.to << " (" << t.event << ")";
    if (!t.detail.empty()) os << " [" << t.detail << "]";
    if (!t.cause.empty()) os << ": " << t.cause;
    os << "\n";
  }
  auto path = st.env->write_crash_dump(st.opts.crash_dir, os.str());
  ++st.e3.crash_dumps;
  spdlog::error("engine crashed: {} (dump: {})", cause, path);
}

void run_action(self_ptr self, fsm::action a, const std::string& cause) {
  auto& st = self->state;
  switch (a) {
    case fsm::action::scan_processes:
      // Before the capture opens (the keeper's mailbox keeps the order).
      caf::anon_send(st.keeper, scan_atom_v);
      if (!st.scanner) st.scanner = watched(self, st.env->spawn_scanner(self->system(), st.shared));
      break;
    case fsm::action::health_check:
      break;  // runs once the capture is open, see open_divert
    case fsm::action::open_divert:
      ++st.generation;
      open_when_routed(self);
      break;
    case fsm::action::close_flows:
      stop_child(self, st.relays);
      break;
    case fsm::action::close_divert:
      st.shared->active = false;
      stop_child(self, st.reader);
      stop_child(self, st.monitor);
      break;
    case fsm::action::remove_rules:
      caf::anon_send(st.keeper, remove_atom_v);
      stop_child(self, st.scanner);
      break;
    case fsm::action::schedule_backoff:
      self->delayed_send(self, st.backoff.delay(st.m.attempt), tick_atom_v);
      break;
    case fsm::action::probe_upstream:
      st.env->probe(self->system(), st.shared->get_config().proxy, me(self), st.generation);
      break;
    case fsm::action::schedule_reopen:
      ++st.e3.driver_reopens;
      self->delayed_send(self, seconds(2), reopen_atom_v);
      break;
    case fsm::action::write_crash_dump:
      write_crash_dump(self, cause);
      break;
    case fsm::action::wait_default_route:
      st.route_deadline = now(self) + seconds(5);
      break;
    case fsm::action::publish:
      publish(self);
      break;
  }
}

void apply(self_ptr self, fsm::event e, const std::string& cause) {
  auto& st = self->state;
  auto out = fsm::transition(st.m, e, now(self), cause, st.backoff);
  auto from = st.m.current;
  bool was_active = st.m.current == fsm::state::active;
  bool had_udp = !st.m.no_udp;
  st.m = out.next;
  bool active = st.m.current == fsm::state::active;
  if (active && !was_active) st.active_since = st.last_rx_change = st.last_udp_check = now(self);
  // Watch the proxy while Active (its loss is noticed at once), the way
  // its UDP allows: a new watch when that changes.
  if (!active || !was_active || had_udp == st.m.no_udp) stop_child(self, st.monitor);
  if (active && !st.monitor)
    st.monitor =
        watched(self, st.env->spawn_monitor(self->system(), st.shared->get_config().proxy, me(self), !st.m.no_udp));
  // Targets are redirected only while Active; otherwise refused. UDP only
  // when the proxy relays it.
  st.shared->udp_available.store(!st.m.no_udp, std::memory_order_release);
  st.shared->active.store(active, std::memory_order_release);
  // Before the actions: a crash dump written by one of them shows this change.
  if (out.changed) record(self, from, fsm::to_string(e), cause);
  for (auto a : out.actions) run_action(self, a, cause);
  share_history(self);  // the actions' counts (reopens, dumps)
}

void set_detail(self_ptr self, std::string detail) {
  auto& st = self->state;
  if (st.m.detail == detail) return;
  st.m.detail = std::move(detail);
  record(self, st.m.current, "detail", "");
  publish(self);
}

// Every heartbeat: capture rules still in place? Any traffic lately?
void heartbeat(self_ptr self) {
  auto& st = self->state;
  auto cfg = st.shared->get_config();
  self->delayed_send(self, cfg.engine.heartbeat_interval, heartbeat_atom_v);
  if (st.m.current != fsm::state::active) return;
  if (st.flow_error_at && now(self) - *st.flow_error_at >= std::chrono::minutes(1)) {
    st.flow_error_at.reset();
    if (st.m.last_error == st.flow_error) {
      st.m.last_error.clear();
      share_status(self);
    }
  }
  // Without UDP (none at the last check): try it again every 30 s, so a
  // relay that was blocked at boot does not keep voice off until a restart.
  if (st.m.no_udp && now(self) - st.last_udp_check >= seconds(30)) {
    st.last_udp_check = now(self);
    st.env->probe(self->system(), cfg.proxy, me(self), st.generation);
  }
  if (st.m.detail != "reopening driver") {
    auto gen = st.generation;
    self->request(st.keeper, caf::infinite, intact_atom_v).then([self, gen](bool intact) {
      auto& st = self->state;
      if (intact || gen != st.generation || st.m.current != fsm::state::active || st.m.detail == "reopening driver")
        return;
      apply(self, fsm::event::driver_lost, "the capture rules were removed under the engine");
    });
  }
  uint64_t rx = st.shared->counters.bytes_in;
  if (rx != st.last_rx) {
    st.last_rx = rx;
    st.last_rx_change = now(self);
    if (st.m.detail == "no traffic") set_detail(self, "");
  } else if (st.m.detail.empty() && !st.shared->targets().empty() &&
             now(self) - st.last_rx_change >= cfg.engine.no_traffic_warn_after) {
    set_detail(self, "no traffic");
  }
}

void reopen_driver(self_ptr self) {
  auto& st = self->state;
  if (st.m.current != fsm::state::active) return;
  stop_child(self, st.reader);
  auto gen = st.generation;
  install(self, [self, gen] {
    if (gen == self->state.generation && self->state.m.current == fsm::state::active)
      apply(self, fsm::event::driver_reopened);
  });
}

// True when proxy.host now resolves to addresses without the one in use.
bool proxy_moved(self_ptr self, const std::vector<endpoint>& addrs) {
  auto up = self->state.shared->upstream();
  if (!up || addrs.empty()) return false;
  for (auto& a : addrs)
    if (a == up->proxy) return false;
  return true;
}

bool needs_restart(const config::config& a, const config::config& b) {
  auto cidrs = [](const config::config& c) {
    std::string s;
    for (auto& x : c.skip.extra_skip_cidrs) s += x.to_string() + ",";
    return s;
  };
  return a.proxy.host != b.proxy.host || a.proxy.port != b.proxy.port || a.proxy.auth != b.proxy.auth ||
         a.proxy.login != b.proxy.login || a.proxy.password != b.proxy.password || cidrs(a) != cidrs(b) ||
         a.skip.multicast != b.skip.multicast;
}

void reload_config(self_ptr self) {
  auto& st = self->state;
  if (!st.opts.reload) return;
  auto r = st.opts.reload();
  if (!r.cfg) {
    st.config_error = "config error, keeping the running config: " + r.error;
    spdlog::warn("{}", st.config_error);
    st.m.last_error = st.config_error;
    record(self, st.m.current, "reload", st.config_error);
    return publish(self);
  }
  if (!st.config_error.empty() && st.m.last_error == st.config_error) st.m.last_error.clear();
  st.config_error.clear();
  auto old = st.shared->get_config();
  if (old.proxy.host != r.cfg->proxy.host) st.last_upstream.clear();
  st.shared->set_config(*r.cfg);
  apply_engine_settings(self, *r.cfg);
  if (needs_restart(old, *r.cfg) && st.m.current != fsm::state::idle) {
    spdlog::info("config: [proxy] or [skip] changed, restarting the engine");
    apply(self, fsm::event::restart, "config changed");
  } else {
    spdlog::info("config: reloaded");
    // New timeouts apply to the next flow at once, a new udp_check to the
    // next probe.
    use_upstream(self, st.last_upstream);
    publish(self);
  }
}

// The health probe's answer: Active (with or without UDP), Reconnecting
// while the proxy cannot be reached, Failed on a definite config error.
void on_probe(self_ptr self, const probe_result& r) {
  auto& st = self->state;
  if (r.generation != st.generation) return;  // a probe of an earlier start
  bool tcp = r.ok || r.tcp_ok, udp = r.ok || r.udp_ok;
  if (tcp && !udp) spdlog::warn("the proxy relays no UDP, voice will not work: {}", r.udp_failure);
  if (st.m.current == fsm::state::active) {
    // The retry while Active without UDP: back to full Active once it works.
    if (st.m.no_udp && tcp && udp) {
      spdlog::info("the proxy relays UDP again: voice goes through it");
      apply(self, fsm::event::checks_ok);
    }
    return;
  }
  bool starting = st.m.current == fsm::state::starting;
  if (!starting && st.m.current != fsm::state::reconnecting) return;
  if (!tcp) {
    if (!starting) return apply(self, fsm::event::proxy_unreachable, r.failure);
    return apply(self, r.unreachable ? fsm::event::proxy_unreachable : fsm::event::checks_failed,
                 "health check failed: " + r.failure);
  }
  auto addrs = parse_addresses(r.addresses, st.shared->get_config().proxy.port);
  if (!starting && proxy_moved(self, addrs)) {
    // M-5: the host name now points elsewhere (DDNS); rules and relays
    // were built for the old address.
    spdlog::info("proxy {} has a new address, restarting onto it", st.shared->get_config().proxy.host);
    use_upstream(self, addrs);
    return apply(self, fsm::event::restart, "proxy address changed");
  }
  use_upstream(self, addrs);
  use_pipelining(self, r.pipelining);
  if (!udp) return apply(self, fsm::event::checks_ok_no_udp);
  apply(self, starting ? fsm::event::checks_ok : fsm::event::proxy_healthy);
}

}  // namespace

status_snapshot make_snapshot(supervisor_pointer self) {
  auto& st = self->state;
  status_snapshot s;
  s.state = fsm::to_string(st.m.current);
  s.detail = st.m.detail;
  if (st.m.current == fsm::state::active)
    s.uptime_s = static_cast<uint64_t>(std::chrono::duration_cast<seconds>(now(self) - st.active_since).count());
  st.shared->fill_counters(s);
  s.target_pids = st.shared->targets();
  s.reconnect_attempt = st.m.current == fsm::state::reconnecting ? st.m.attempt : 0;
  s.last_error = st.m.last_error;
  s.udp_available = !st.m.no_udp;
  return s;
}

supervisor_actor::behavior_type engine_supervisor(self_ptr self, std::shared_ptr<engine_env> env,
                                                  std::shared_ptr<engine_shared> shared, supervisor_options opts) {
  auto& st = self->state;
  st.env = std::move(env);
  st.shared = std::move(shared);
  st.opts = std::move(opts);
  apply_engine_settings(self, st.shared->get_config());
  // A child that dies with an error is an exception (E3: fail stop + dump).
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    // A front end that went away is no failure of the engine.
    auto& subs = st.subscribers;
    auto sub = std::find_if(subs.begin(), subs.end(), [&](const caf::actor& a) { return a.address() == dm.source; });
    if (sub != subs.end()) {
      subs.erase(sub);
      return;
    }
    std::string who = "child";
    auto forget = [&](auto& h, const char* name) {
      if (h && dm.source == h.address()) {
        who = name;
        h = std::decay_t<decltype(h)>{};
      }
    };
    forget(st.relays, "relay_host");
    forget(st.reader, "divert_reader");
    forget(st.scanner, "procscan");
    forget(st.monitor, "upstream_monitor");
    bool benign = !dm.reason || dm.reason == caf::exit_reason::user_shutdown || dm.reason == caf::exit_reason::normal ||
                  dm.reason == caf::exit_reason::unreachable;
    if (!benign) apply(self, fsm::event::exception, who + ": " + error_text(self->system(), dm.reason));
  });
  self->set_exception_handler([self](std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    apply(self, fsm::event::exception, "engine_supervisor: " + what);
    return caf::none;  // the supervisor stays, in Failed, to report it
  });
  // Linked: the keeper (and with it the rules) goes when the supervisor does.
  if (st.env->blocking_detached())
    st.keeper = self->spawn<caf::detached + caf::linked>(rules_keeper, st.env, st.shared);
  else
    st.keeper = self->spawn<caf::linked>(rules_keeper, st.env, st.shared);
  share_status(self);
  self->delayed_send(self, st.shared->get_config().engine.heartbeat_interval, heartbeat_atom_v);
  return {
      [self](start_atom) { apply(self, fsm::event::start); },
      [self](retry_atom) { apply(self, fsm::event::retry); },
      [self](stop_atom) {
        apply(self, fsm::event::stop);
        // Answered once the keeper has removed the rules.
        return self->delegate(self->state.keeper, remove_atom_v);
      },
      [self](status_atom) { return make_snapshot(self); },
      [self](upstream_failure& f) {
        auto& st = self->state;
        uint64_t held_back = 0;
        if (f.unreachable)
          spdlog::warn("upstream {}: {}", f.step, f.message);
        else if (st.flow_failures.admit(log_gate::clock::now(), held_back))
          spdlog::warn(
              "upstream {}: {}{}", f.step, f.message,
              held_back ? " (" + std::to_string(held_back) + " flow failures before this one not logged)" : "");
        if (f.unreachable && st.m.current == fsm::state::active)
          return apply(self, fsm::event::proxy_unreachable, f.message);
        if (st.m.current != fsm::state::active) return;
        st.flow_error_at = now(self);
        st.flow_error = f.message;
        if (st.m.last_error == f.message) return;
        st.m.last_error = f.message;
        share_status(self);  // not a state change for watchers, but status must show it
      },
      [self](divert_lost& d) {
        stop_child(self, self->state.reader);
        apply(self, d.gone ? fsm::event::driver_gone : fsm::event::driver_lost, d.message);
      },
      [self](probe_result& r) { on_probe(self, r); },
      [self](tick_atom) { apply(self, fsm::event::backoff_tick); },
      [self](reopen_atom) { reopen_driver(self); },
      [self](sleep_atom) { apply(self, fsm::event::sleep); },
      [self](resume_atom) {
        if (self->state.route_deadline && self->state.m.current == fsm::state::starting) return open_when_routed(self);
        apply(self, fsm::event::resume);
      },
      [self](heartbeat_atom) { heartbeat(self); },
      [self](reload_atom) { reload_config(self); },
      [self](subscribe_atom, caf::actor who) {
        auto& subs = self->state.subscribers;
        if (!who || std::find(subs.begin(), subs.end(), who) != subs.end()) return;
        self->monitor(who);
        subs.push_back(std::move(who));
      },
  };
}

supervisor_actor spawn_engine_supervisor(caf::actor_system& sys, std::shared_ptr<engine_env> env,
                                         std::shared_ptr<engine_shared> shared, supervisor_options opts) {
  return sys.spawn<caf::detached>(engine_supervisor, std::move(env), std::move(shared), std::move(opts));
}

}  // namespace drover
