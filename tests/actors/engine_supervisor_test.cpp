// The supervisor in virtual time: CAF's test coordinator runs every actor
// deterministically on this thread; time moves only when the test says so.
#include "actors/engine_supervisor.hpp"

#include <gtest/gtest.h>
#include <caf/scheduler/test_coordinator.hpp>

#include "tests/actors/fake_env.hpp"
#include "tests/actors/test_config.hpp"

using namespace drover;
using namespace drover::testing;
using namespace std::chrono_literals;

namespace {

using drover::testing::test_config;

class supervisor_test : public ::testing::Test {
 protected:
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  fake_world world;
  std::shared_ptr<engine_shared> shared = std::make_shared<engine_shared>();
  std::vector<std::string> published;
  supervisor_actor sup;
  caf::actor subscriber;

  // A front end: writes down "state/detail" of every snapshot it is sent.
  caf::actor spawn_subscriber(std::vector<std::string>& out) {
    return sys.spawn([&out](caf::event_based_actor*) -> caf::behavior {
      return {[&out](const status_snapshot& s) { out.push_back(s.state + "/" + s.detail); }};
    });
  }
  // The supervisor's own view, for what it keeps that no message shows.
  supervisor_state& sup_state() {
    return dynamic_cast<supervisor_pointer>(caf::actor_cast<caf::abstract_actor*>(sup))->state;
  }

  void SetUp() override {
    shared->set_config(config::defaults(config::target_os::linux_os));
    sup = sys.spawn(engine_supervisor, std::make_shared<fake_env>(world), shared, supervisor_options{});
    subscriber = spawn_subscriber(published);
    caf::anon_send(sup, subscribe_atom_v, subscriber);
    sched.run();
  }
  void TearDown() override {
    // Stop closes every child; then no actor is left for ~actor_system to wait on.
    caf::anon_send(sup, stop_atom_v);
    sched.run();
    caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    sched.run();
  }

  template <class T>
  void send(T msg) {
    caf::anon_send(sup, std::move(msg));
    sched.run();
  }
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }
  status_snapshot status() {
    status_snapshot out;
    caf::scoped_actor self{sys};
    auto h = self->request(sup, caf::infinite, status_atom_v);
    sched.run();
    h.receive([&](status_snapshot& s) { out = s; }, [](caf::error&) {});
    return out;
  }
  // `ok`: everything passed. Otherwise the proxy was unreachable unless
  // `config_error` (e.g. authentication rejected).
  void answer_probe(bool ok, std::string failure = "", bool config_error = false) {
    ASSERT_FALSE(world.probes.empty());
    probe_result r;
    r.ok = r.tcp_ok = r.udp_ok = ok;
    r.failure = std::move(failure);
    r.generation = world.probes.back();
    r.unreachable = !ok && !config_error;
    r.addresses = {endpoint::v4(world.proxy_ip, 1080).addr_string()};
    send(r);
  }
  void answer_probe_tcp_only() {
    ASSERT_FALSE(world.probes.empty());
    probe_result r;
    r.tcp_ok = true;
    r.failure = r.udp_failure = "the proxy does not support UDP ASSOCIATE";
    r.generation = world.probes.back();
    r.addresses = {endpoint::v4(world.proxy_ip, 1080).addr_string()};
    send(r);
  }
  void go_active() {
    send(start_atom_v);
    ASSERT_EQ(status().state, "Starting");
    ASSERT_EQ(world.installs, 1);
    answer_probe(true);
    ASSERT_EQ(status().state, "Active");
  }
};

TEST_F(supervisor_test, start_checks_then_active) {
  send(start_atom_v);
  EXPECT_EQ(status().state, "Starting");
  EXPECT_FALSE(shared->active) << "targets are refused while Starting";
  EXPECT_EQ(world.rules_alive, 1) << "rules are in place before the health check";
  ASSERT_EQ(world.probes.size(), 1u);
  answer_probe(true);
  EXPECT_EQ(status().state, "Active");
  EXPECT_TRUE(shared->active);
  EXPECT_EQ(world.monitors, 1);
  EXPECT_EQ(status().target_pids, std::vector<uint32_t>{4242});
}

TEST_F(supervisor_test, failed_health_check_keeps_engine_out_of_active) {
  send(start_atom_v);
  answer_probe(false, "authentication failed: the proxy rejected the username or password", true);
  auto s = status();
  EXPECT_EQ(s.state, "Failed");
  EXPECT_NE(s.last_error.find("authentication"), std::string::npos);
  EXPECT_FALSE(shared->active);
  EXPECT_EQ(world.rules_alive, 0) << "Failed diverts nothing";
  send(retry_atom_v);
  EXPECT_EQ(status().state, "Starting");
}

TEST_F(supervisor_test, stale_probe_answers_are_ignored) {
  send(start_atom_v);
  probe_result stale;
  stale.ok = true;
  stale.generation = world.probes.back() + 7;
  send(stale);
  EXPECT_EQ(status().state, "Starting");
}

TEST_F(supervisor_test, backoff_1_2_4_8_16_30_30_then_failed_at_5_min) {
  go_active();
  send(upstream_failure{"tcp connect", "connection refused", true});
  auto s = status();
  EXPECT_EQ(s.state, "Reconnecting");
  EXPECT_EQ(s.reconnect_attempt, 1u);
  EXPECT_FALSE(shared->active) << "targets refused while Reconnecting";
  const long delays[] = {1, 2, 4, 8, 16, 30, 30, 30};
  caf::timespan elapsed{0};
  for (long d : delays) {
    size_t before = world.probes.size();
    advance(std::chrono::seconds(d) - 1ms);
    EXPECT_EQ(world.probes.size(), before) << "probed before the " << d << " s delay";
    advance(1ms);
    ASSERT_EQ(world.probes.size(), before + 1) << "no probe after " << d << " s";
    elapsed += std::chrono::seconds(d);
    answer_probe(false, "connection refused");
    EXPECT_EQ(status().state, "Reconnecting");
  }
  // 121 s so far; the next delays are 30 s each until 300 s have passed.
  while (elapsed < 300s) {
    advance(30s);
    elapsed += 30s;
    if (status().state == "Failed") break;
    answer_probe(false, "connection refused");
  }
  s = status();
  EXPECT_EQ(s.state, "Failed");
  EXPECT_NE(s.last_error.find("5 min"), std::string::npos) << s.last_error;
  EXPECT_LE(elapsed, 300s + 30s);
}

TEST_F(supervisor_test, recovery_returns_to_active_and_resets_attempts) {
  go_active();
  send(upstream_failure{"health", "connection lost", true});
  advance(1s);
  answer_probe(true);
  auto s = status();
  EXPECT_EQ(s.state, "Active");
  EXPECT_EQ(s.reconnect_attempt, 0u);
  EXPECT_TRUE(shared->active);
}

TEST_F(supervisor_test, proxy_host_moved_while_reconnecting_restarts_onto_new_address) {
  go_active();
  send(upstream_failure{"health", "connection lost", true});
  world.proxy_ip = {10, 9, 0, 99};  // DDNS moved the proxy
  advance(1s);
  int installs = world.installs;
  answer_probe(true);
  EXPECT_EQ(status().state, "Starting");
  EXPECT_EQ(world.installs, installs + 1) << "rules rebuilt for the new address";
  EXPECT_EQ(world.updates, 1) << "swapped in place";
  // Drover's own process stays out of capture in every plan, the swapped one too.
  EXPECT_EQ(world.plan_pids, std::vector<uint32_t>(static_cast<size_t>(world.installs), fake_env::own_pid_value));
  EXPECT_EQ(world.rules_alive, 1) << "never a moment without rules";
  answer_probe(true);
  EXPECT_EQ(status().state, "Active");
  ASSERT_TRUE(shared->upstream());
  EXPECT_EQ(shared->upstream()->proxy.addr_string(), "10.9.0.99");
}

TEST_F(supervisor_test, driver_lost_reopens_once_second_loss_in_30s_fails) {
  go_active();
  send(divert_lost{"NFQUEUE receive failed", false});
  EXPECT_EQ(status().detail, "reopening driver");
  advance(2s - 1ms);
  EXPECT_EQ(world.installs, 1);
  advance(1ms);
  EXPECT_EQ(world.installs, 2) << "rules reinstalled after 2 s";
  EXPECT_EQ(world.rules_alive, 1);
  EXPECT_EQ(status().detail, "");
  advance(27s);
  send(divert_lost{"NFQUEUE receive failed", false});
  auto s = status();
  EXPECT_EQ(s.state, "Failed");
  EXPECT_NE(s.last_error.find("twice"), std::string::npos);
}

TEST_F(supervisor_test, driver_lost_after_30s_reopens_again) {
  go_active();
  send(divert_lost{"lost", false});
  advance(2s);
  advance(29s);
  send(divert_lost{"lost", false});
  EXPECT_EQ(status().state, "Active");
  EXPECT_EQ(status().detail, "reopening driver");
  advance(2s);
  EXPECT_EQ(world.installs, 3);
}

TEST_F(supervisor_test, driver_gone_fails_with_cause) {
  go_active();
  send(divert_lost{"cannot bind NFQUEUE 0", true});
  auto s = status();
  EXPECT_EQ(s.state, "Failed");
  EXPECT_EQ(s.last_error, "cannot bind NFQUEUE 0");
}

TEST_F(supervisor_test, rules_removed_under_engine_are_driver_loss) {
  go_active();
  world.rules_intact = false;
  advance(5s);  // heartbeat
  EXPECT_EQ(status().detail, "reopening driver");
  world.rules_intact = true;
  advance(2s);
  EXPECT_EQ(status().detail, "");
}

TEST_F(supervisor_test, exception_in_a_child_fails_with_crash_dump) {
  go_active();
  caf::anon_send(world.last_relays, close_atom_v);  // the fake throws
  sched.run();
  auto s = status();
  EXPECT_EQ(s.state, "Failed");
  EXPECT_NE(s.last_error.find("relay_host"), std::string::npos) << s.last_error;
  ASSERT_EQ(world.dumps.size(), 1u);
  EXPECT_NE(world.dumps[0].find("boom in relay_host"), std::string::npos);
  EXPECT_NE(world.dumps[0].find("state history"), std::string::npos);
  EXPECT_NE(world.dumps[0].find("Active -> Failed (exception)"), std::string::npos)
      << "the dump shows the change that wrote it: " << world.dumps[0];
  EXPECT_EQ(shared->history().e3.crash_dumps, 1u);
}

TEST_F(supervisor_test, sleep_pauses_and_resume_restarts) {
  go_active();
  send(sleep_atom_v);
  auto s = status();
  EXPECT_EQ(s.state, "Reconnecting");
  EXPECT_EQ(s.detail, "paused (system sleep)");
  EXPECT_FALSE(shared->active);
  size_t probes = world.probes.size();
  advance(60s);
  EXPECT_EQ(world.probes.size(), probes) << "no backoff while paused";
  world.default_route = false;
  send(resume_atom_v);
  EXPECT_EQ(status().state, "Starting");
  advance(1s);
  EXPECT_EQ(world.probes.size(), probes) << "waits for a default route";
  world.default_route = true;
  advance(250ms);
  ASSERT_EQ(world.probes.size(), probes + 1);
  answer_probe(true);
  EXPECT_EQ(status().state, "Active");
}

TEST_F(supervisor_test, resume_without_route_gives_up_waiting_after_5s) {
  go_active();
  send(sleep_atom_v);
  world.default_route = false;
  size_t probes = world.probes.size();
  send(resume_atom_v);
  advance(4750ms);
  EXPECT_EQ(world.probes.size(), probes);
  advance(500ms);
  EXPECT_EQ(world.probes.size(), probes + 1);
}

TEST_F(supervisor_test, no_traffic_after_30s_is_reported_state_stays_active) {
  go_active();
  advance(35s);
  auto s = status();
  EXPECT_EQ(s.state, "Active");
  EXPECT_EQ(s.detail, "no traffic");
  shared->counters.bytes_in += 100;
  advance(5s);
  EXPECT_EQ(status().detail, "");
}

TEST_F(supervisor_test, every_change_is_published) {
  go_active();
  send(upstream_failure{"health", "gone", true});
  send(stop_atom_v);
  std::vector<std::string> want{"Starting/starting", "Active/", "Reconnecting/reconnecting (attempt 1)",
                                "Idle/stopped"};
  EXPECT_EQ(published, want);
  EXPECT_EQ(world.rules_alive, 0);
}

TEST_F(supervisor_test, a_second_subscriber_gets_the_same_changes) {
  std::vector<std::string> second;
  auto tray = spawn_subscriber(second);
  caf::anon_send(sup, subscribe_atom_v, tray);
  caf::anon_send(sup, subscribe_atom_v, tray);  // twice: still one copy of each change
  sched.run();
  go_active();
  EXPECT_EQ(second, published);
  EXPECT_EQ(second, (std::vector<std::string>{"Starting/starting", "Active/"}));
  caf::anon_send_exit(tray, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_F(supervisor_test, a_killed_subscriber_is_dropped_and_the_engine_carries_on) {
  std::vector<std::string> second;
  auto tray = spawn_subscriber(second);
  caf::anon_send(sup, subscribe_atom_v, tray);
  sched.run();
  go_active();
  ASSERT_EQ(sup_state().subscribers.size(), 2u);
  // Killed, not a clean exit: a child dying so would be an exception.
  caf::anon_send_exit(tray, caf::exit_reason::kill);
  sched.run();
  EXPECT_EQ(sup_state().subscribers.size(), 1u) << "the dead subscriber is forgotten";
  EXPECT_EQ(status().state, "Active") << "a front end going away is no failure of the engine";
  EXPECT_TRUE(world.dumps.empty());
  auto seen = second.size();
  published.clear();
  send(upstream_failure{"health", "gone", true});
  EXPECT_EQ(second.size(), seen);
  EXPECT_EQ(published, (std::vector<std::string>{"Reconnecting/reconnecting (attempt 1)"}))
      << "the other subscriber is still told";
}

TEST_F(supervisor_test, transitions_and_e3_counters_are_shared_for_the_dump) {
  go_active();
  send(upstream_failure{"health", "control connection closed by the proxy", true});
  advance(1s);
  answer_probe(true);
  send(divert_lost{"NFQUEUE receive failed", false});
  advance(2s);
  send(sleep_atom_v);  // a pause, not a lost proxy
  auto h = shared->history();
  EXPECT_EQ(h.e3.reconnects, 1u);
  EXPECT_EQ(h.e3.driver_reopens, 1u);
  EXPECT_EQ(h.e3.crash_dumps, 0u);
  std::vector<std::string> seen;
  for (auto& t : h.transitions) {
    seen.push_back(t.from + ">" + t.to + ":" + t.event);
    EXPECT_EQ(t.time.size(), 24u) << t.time;
    EXPECT_EQ(t.time.back(), 'Z') << "UTC: " << t.time;
  }
  std::vector<std::string> want{"Idle>Starting:start",
                                "Starting>Active:checks_ok",
                                "Active>Reconnecting:proxy_unreachable",
                                "Reconnecting>Active:proxy_healthy",
                                "Active>Active:driver_lost",
                                "Active>Active:driver_reopened",
                                "Active>Reconnecting:sleep"};
  EXPECT_EQ(seen, want);
  ASSERT_GE(h.transitions.size(), 3u);
  EXPECT_EQ(h.transitions[2].cause, "control connection closed by the proxy");
  EXPECT_EQ(h.transitions[4].detail, "reopening driver");
}

TEST_F(supervisor_test, transition_history_keeps_the_last_hundred) {
  go_active();
  for (int i = 0; i < 60; ++i) {
    send(upstream_failure{"health", "gone " + std::to_string(i), true});
    advance(1s);
    answer_probe(true);
  }
  auto h = shared->history();
  ASSERT_EQ(h.transitions.size(), 100u);
  EXPECT_EQ(h.transitions.back().to, "Active");
  EXPECT_EQ(h.transitions.back().event, "proxy_healthy");
  EXPECT_EQ(h.transitions[h.transitions.size() - 2].cause, "gone 59");
  EXPECT_EQ(h.e3.reconnects, 60u);
}

TEST_F(supervisor_test, proxy_unreachable_at_start_retries_with_targets_refused) {
  // Boot before the network, or the proxy starts a second after Drover.
  send(start_atom_v);
  answer_probe(false, "TCP connect to 10.9.0.2:1080 failed: Connection refused");
  auto s = status();
  EXPECT_EQ(s.state, "Reconnecting");
  EXPECT_EQ(s.reconnect_attempt, 1u);
  EXPECT_FALSE(shared->active) << "targets refused, never direct";
  EXPECT_EQ(world.rules_alive, 1) << "the rules stay in place while retrying";
  size_t probes = world.probes.size();
  advance(1s);
  ASSERT_EQ(world.probes.size(), probes + 1) << "probed again after the first backoff step";
  answer_probe(true);
  EXPECT_EQ(status().state, "Active");
  EXPECT_TRUE(shared->active);
  ASSERT_TRUE(shared->upstream());
  EXPECT_EQ(shared->upstream()->proxy.addr_string(), "10.9.0.2");
}

TEST_F(supervisor_test, tcp_only_proxy_is_active_with_udp_refused) {
  send(start_atom_v);
  answer_probe_tcp_only();
  auto s = status();
  EXPECT_EQ(s.state, "Active");
  EXPECT_EQ(s.detail, "the proxy has no UDP: voice will not work");
  EXPECT_FALSE(s.udp_available);
  EXPECT_TRUE(shared->active);
  EXPECT_FALSE(shared->udp_available) << "target UDP is refused";
  EXPECT_EQ(world.tcp_only_monitors, 1) << "no association to hold: the monitor checks TCP";
  // UDP unblocked at the proxy: found within 30 s while staying Active.
  size_t probes = world.probes.size();
  advance(25s);
  EXPECT_EQ(world.probes.size(), probes);
  advance(10s);
  ASSERT_EQ(world.probes.size(), probes + 1) << "UDP is tried again while Active";
  answer_probe(true);
  EXPECT_EQ(status().state, "Active");
  EXPECT_EQ(status().detail, "");
  EXPECT_TRUE(shared->udp_available);
  EXPECT_EQ(world.monitors, 2) << "the monitor now holds a UDP association";
  // Lost again at a reconnect, then back: UDP comes back.
  send(upstream_failure{"health", "gone", true});
  advance(1s);
  answer_probe_tcp_only();
  EXPECT_FALSE(shared->udp_available);
  send(upstream_failure{"health", "gone", true});
  advance(1s);
  answer_probe(true);
  EXPECT_EQ(status().detail, "");
  EXPECT_TRUE(shared->udp_available);
}

TEST_F(supervisor_test, status_is_published_for_the_control_channel) {
  // The control channel answers from shared state, never waiting on the
  // supervisor (which may be busy).
  EXPECT_EQ(shared->status().state, "Idle");
  go_active();
  EXPECT_EQ(shared->status().state, "Active");
  shared->counters.bytes_in += 7;
  EXPECT_EQ(shared->status().bytes_in, 7u) << "counters are live";
  send(stop_atom_v);
  EXPECT_EQ(shared->status().state, "Idle");
}

TEST_F(supervisor_test, one_flows_failure_leaves_last_error_after_a_quiet_minute) {
  go_active();
  send(upstream_failure{"request", "198.18.0.3:9: connection refused by the destination", false});
  EXPECT_EQ(status().last_error, "198.18.0.3:9: connection refused by the destination");
  EXPECT_EQ(status().state, "Active") << "one destination's refusal is not the proxy's failure";
  advance(30s);
  EXPECT_FALSE(shared->status().last_error.empty());
  advance(35s);
  EXPECT_EQ(shared->status().last_error, "") << "cleared after a minute without another";
}

TEST_F(supervisor_test, clearing_a_flows_failure_leaves_other_errors_alone) {
  go_active();
  send(upstream_failure{"request", "198.18.0.3:9: connection refused by the destination", false});
  // The proxy went away and came back: last_error now says why it went.
  send(upstream_failure{"health", "control connection closed by the proxy", true});
  advance(1s);
  answer_probe(true);
  ASSERT_EQ(status().state, "Active");
  advance(65s);
  EXPECT_EQ(shared->status().last_error, "control connection closed by the proxy")
      << "only the flow's own complaint is cleared";
}

}  // namespace
