#include "actors/engine_supervisor.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "actors/divert_reader.hpp"
#include "actors/procscan.hpp"
#include "actors/relay_host.hpp"
#include "core/recovery.hpp"
#include "platform/process_table.hpp"
#include "platform/redirect_rules.hpp"
#include "platform/upstream_probe.hpp"

namespace drover {
namespace {

using fsm_clock = fsm::clock;

struct state {
  std::shared_ptr<engine_shared> shared;
  supervisor_options opts;
  fsm::machine m;
  recovery::backoff backoff;
  std::unique_ptr<platform::redirect_rules> rules;
  filter::linux_params params;
  relay_host_actor relays;
  divert_reader_actor reader;
  procscan_actor scanner;
  fsm_clock::time_point active_since{};
  uint64_t generation = 0;  ///< bumps on every (re)start: stale replies are dropped
  std::vector<std::string> history;
};

using self_ptr = supervisor_actor::stateful_pointer<state>;

std::string now_text() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

void apply(self_ptr self, fsm::event e, const std::string& cause = {});

template <class Handle>
void stop_child(self_ptr self, Handle& h) {
  if (h) {
    self->demonitor(h.address());
    self->send_exit(h, caf::exit_reason::user_shutdown);
    h = Handle{};
  }
}

void spawn_probe(self_ptr self) {
  auto cfg = self->state.shared->get_config();
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto gen = self->state.generation;
  self->system().spawn<caf::detached>([cfg, me, gen](caf::event_based_actor* a) {
    auto rep = platform::probe_upstream(cfg.proxy);
    caf::anon_send(me, probe_result{rep.ok, rep.failure, gen});
    a->quit();
  });
}

void open_divert(self_ptr self) {
  auto& st = self->state;
  auto cfg = st.shared->get_config();
  auto addrs = platform::resolve_host(cfg.proxy.host, cfg.proxy.port);
  if (!addrs) return apply(self, fsm::event::checks_failed, addrs.err().message);
  auto up = std::make_shared<upstream_info>();
  up->proxy = addrs->front();
  up->auth = cfg.proxy.auth;
  up->login = cfg.proxy.login;
  up->password = cfg.proxy.password;
  up->connect_timeout = cfg.proxy.tcp_connect_timeout;
  up->udp_timeout = cfg.proxy.udp_associate_timeout;
  st.shared->set_upstream(up);
  auto me = caf::actor_cast<supervisor_actor>(self);
  st.relays = self->spawn<caf::monitored>(relay_host, st.shared, me);
  auto gen = st.generation;
  self->request(st.relays, caf::infinite, ports_atom_v)
      .then(
          [self, gen, addrs = *addrs, cfg, me](uint16_t tcp_port, uint16_t udp_port) {
            auto& st = self->state;
            if (gen != st.generation || st.m.current != fsm::state::starting) return;
            st.params.tcp_port = tcp_port;
            st.params.udp_port = udp_port;
            filter::inputs in;
            in.own_pid = platform::own_pid();
            in.upstream = addrs;
            in.extra_skip = cfg.skip.extra_skip_cidrs;
            in.skip_multicast = cfg.skip.multicast;
            auto rules = platform::install_rules(in, st.params);
            if (!rules) return apply(self, fsm::event::checks_failed, rules.err().message);
            st.rules = std::move(*rules);
            platform::divert_options d;
            d.queue_num = st.params.queue_num;
            st.reader = self->spawn<caf::detached + caf::monitored>(divert_reader, st.shared, me, d);
            spawn_probe(self);
          },
          [self](caf::error& err) { apply(self, fsm::event::checks_failed, self->system().render(err)); });
}

void write_crash_dump(self_ptr self, const std::string& cause) {
  auto& st = self->state;
  std::time_t t = std::time(nullptr);
  char name[64];
  std::strftime(name, sizeof name, "crash-%Y%m%d-%H%M%S.txt", std::localtime(&t));
  std::string path = st.opts.crash_dir + "/" + name;
  std::ofstream f(path);
  f << "Drover crash dump\ntime: " << now_text() << "\nversion: " << st.opts.version
    << "\nstate: " << fsm::to_string(st.m.current) << "\ncause: " << cause << "\nstate history:\n";
  for (auto& h : st.history) f << "  " << h << "\n";
  spdlog::error("engine crashed: {} (dump: {})", cause, path);
}

void run_action(self_ptr self, fsm::action a, const std::string& cause) {
  auto& st = self->state;
  switch (a) {
    case fsm::action::scan_processes:
      st.shared->set_targets(scan_targets(*st.shared));
      if (!st.scanner)
        st.scanner = self->spawn<caf::monitored>(procscan, st.shared, caf::actor_cast<supervisor_actor>(self));
      break;
    case fsm::action::health_check:
      break;  // runs once the divert is open, see open_divert
    case fsm::action::open_divert:
      ++st.generation;
      open_divert(self);
      break;
    case fsm::action::close_flows:
      stop_child(self, st.relays);
      break;
    case fsm::action::close_divert:
      st.shared->active = false;
      stop_child(self, st.reader);
      break;
    case fsm::action::remove_rules:
      st.rules.reset();
      stop_child(self, st.scanner);
      break;
    case fsm::action::schedule_backoff:
      self->delayed_send(self, st.backoff.delay(st.m.attempt), tick_atom_v);
      break;
    case fsm::action::probe_upstream:
      spawn_probe(self);
      break;
    case fsm::action::schedule_reopen:
      self->delayed_send(self, std::chrono::seconds(2), reopen_atom_v);
      break;
    case fsm::action::write_crash_dump:
      write_crash_dump(self, cause);
      break;
    case fsm::action::wait_default_route:
      break;
    case fsm::action::publish: {
      auto line =
          now_text() + " " + fsm::to_string(st.m.current) + (st.m.detail.empty() ? "" : " (" + st.m.detail + ")");
      st.history.push_back(line);
      if (st.history.size() > 50) st.history.erase(st.history.begin());
      spdlog::info("engine: {}", line.substr(20));
      break;
    }
  }
}

void apply(self_ptr self, fsm::event e, const std::string& cause) {
  auto& st = self->state;
  auto out = fsm::transition(st.m, e, fsm_clock::now(), cause, st.backoff);
  bool was_active = st.m.current == fsm::state::active;
  st.m = out.next;
  bool active = st.m.current == fsm::state::active;
  if (active && !was_active) st.active_since = fsm_clock::now();
  // Targets are redirected only while Active; otherwise refused.
  st.shared->active.store(active, std::memory_order_release);
  for (auto a : out.actions) run_action(self, a, cause);
}

status_snapshot snapshot(self_ptr self) {
  auto& st = self->state;
  auto& c = st.shared->counters;
  status_snapshot s;
  s.state = fsm::to_string(st.m.current);
  s.detail = st.m.detail;
  if (st.m.current == fsm::state::active)
    s.uptime_s = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(fsm_clock::now() - st.active_since).count());
  s.bytes_in = c.bytes_in;
  s.bytes_out = c.bytes_out;
  s.tcp_flows = c.tcp_flows;
  s.udp_flows = c.udp_flows;
  s.target_pids = st.shared->targets();
  s.reconnect_attempt = st.m.current == fsm::state::reconnecting ? st.m.attempt : 0;
  s.last_error = st.m.last_error;
  s.flows_redirected = c.redirected;
  s.flows_direct = c.direct;
  s.flows_refused = c.refused;
  return s;
}

supervisor_actor::behavior_type engine_supervisor(self_ptr self, std::shared_ptr<engine_shared> shared,
                                                  supervisor_options opts) {
  self->state.shared = std::move(shared);
  self->state.opts = std::move(opts);
  self->state.params.queue_num = self->state.opts.queue_num;
  auto cfg = self->state.shared->get_config();
  self->state.backoff.initial = std::chrono::duration_cast<std::chrono::seconds>(cfg.engine.reconnect_backoff_initial);
  self->state.backoff.cap = std::chrono::duration_cast<std::chrono::seconds>(cfg.engine.reconnect_backoff_max);
  self->state.backoff.total = std::chrono::duration_cast<std::chrono::seconds>(cfg.engine.reconnect_total_cap);
  if (self->state.backoff.initial.count() < 1) self->state.backoff.initial = std::chrono::seconds(1);
  // A child that dies with an error is an exception (E3: fail stop + dump).
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    std::string who = dm.source == st.relays.address()    ? "relay_host"
                      : dm.source == st.reader.address()  ? "divert_reader"
                      : dm.source == st.scanner.address() ? "procscan"
                                                          : "child";
    if (dm.source == st.relays.address()) st.relays = relay_host_actor{};
    if (dm.source == st.reader.address()) st.reader = divert_reader_actor{};
    if (dm.source == st.scanner.address()) st.scanner = procscan_actor{};
    if (dm.reason && dm.reason != caf::exit_reason::user_shutdown && dm.reason != caf::exit_reason::normal)
      apply(self, fsm::event::exception, who + ": " + self->system().render(dm.reason));
  });
  self->attach_functor([self] { self->state.rules.reset(); });
  return {
      [self](start_atom) { apply(self, fsm::event::start); },
      [self](retry_atom) { apply(self, fsm::event::retry); },
      [self](stop_atom) {
        apply(self, fsm::event::stop);
        return true;
      },
      [self](status_atom) { return snapshot(self); },
      [self](target_pids&) {},
      [self](upstream_failure& f) {
        spdlog::warn("upstream {}: {}", f.step, f.message);
        auto& st = self->state;
        if (f.unreachable && st.m.current == fsm::state::active)
          return apply(self, fsm::event::proxy_unreachable, f.message);
        st.m.last_error = f.message;
      },
      [self](divert_lost& d) {
        self->state.reader = divert_reader_actor{};
        apply(self, d.gone ? fsm::event::driver_gone : fsm::event::driver_lost, d.message);
      },
      [self](probe_result& r) {
        auto& st = self->state;
        if (r.generation != st.generation) return;  // a probe of an earlier start
        if (st.m.current == fsm::state::starting) {
          return apply(self, r.ok ? fsm::event::checks_ok : fsm::event::checks_failed,
                       r.ok ? std::string() : "health check failed: " + r.failure);
        }
        if (st.m.current == fsm::state::reconnecting)
          apply(self, r.ok ? fsm::event::proxy_healthy : fsm::event::proxy_unreachable, r.failure);
      },
      [self](tick_atom) { apply(self, fsm::event::backoff_tick); },
      [self](reopen_atom) {
        auto& st = self->state;
        if (st.m.current != fsm::state::active) return;
        stop_child(self, st.reader);
        platform::divert_options d;
        d.queue_num = st.params.queue_num;
        st.reader = self->spawn<caf::detached + caf::monitored>(divert_reader, st.shared,
                                                                caf::actor_cast<supervisor_actor>(self), d);
        apply(self, fsm::event::driver_reopened);
      },
      [self](sleep_atom) { apply(self, fsm::event::sleep); },
      [self](resume_atom) { apply(self, fsm::event::resume); },
  };
}

}  // namespace

supervisor_actor spawn_engine_supervisor(caf::actor_system& sys, std::shared_ptr<engine_shared> shared,
                                         supervisor_options opts) {
  return sys.spawn<caf::detached>(engine_supervisor, std::move(shared), std::move(opts));
}

}  // namespace drover
