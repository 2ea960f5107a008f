#include "core/engine_fsm.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace drover::fsm;
using namespace std::chrono_literals;

namespace {
const clock::time_point t0 = clock::time_point{} + 1000h;

bool has(const outcome& o, action a) { return std::find(o.actions.begin(), o.actions.end(), a) != o.actions.end(); }

machine in(state s, bool paused = false) {
  machine m;
  m.current = s;
  m.paused = paused;
  if (s == state::reconnecting && !paused) {
    m.attempt = 1;
    m.reconnect_since = t0;
  }
  return m;
}
}  // namespace

// Every arrow of DESIGN.md §1's table, one row each.
TEST(engine_fsm, every_arrow) {
  struct row {
    machine from;
    event e;
    state to;
    action must;  // one action the arrow must request
  };
  const row rows[] = {
      {in(state::idle), event::start, state::starting, action::health_check},
      {in(state::starting), event::checks_ok, state::active, action::publish},
      {in(state::starting), event::checks_failed, state::failed, action::remove_rules},
      {in(state::starting), event::proxy_unreachable, state::reconnecting, action::schedule_backoff},
      {in(state::starting), event::checks_ok_no_udp, state::active, action::publish},
      {in(state::reconnecting), event::checks_ok_no_udp, state::active, action::publish},
      {in(state::active), event::proxy_unreachable, state::reconnecting, action::schedule_backoff},
      {in(state::reconnecting), event::proxy_healthy, state::active, action::publish},
      {in(state::active), event::driver_lost, state::active, action::schedule_reopen},
      {in(state::active), event::driver_gone, state::failed, action::close_divert},
      {in(state::active), event::exception, state::failed, action::write_crash_dump},
      {in(state::reconnecting), event::exception, state::failed, action::write_crash_dump},
      {in(state::active), event::sleep, state::reconnecting, action::close_divert},
      {in(state::reconnecting), event::sleep, state::reconnecting, action::close_flows},
      {in(state::reconnecting, true), event::resume, state::starting, action::wait_default_route},
      {in(state::starting), event::stop, state::idle, action::remove_rules},
      {in(state::active), event::stop, state::idle, action::remove_rules},
      {in(state::reconnecting), event::stop, state::idle, action::remove_rules},
      {in(state::failed), event::stop, state::idle, action::publish},
      {in(state::failed), event::retry, state::starting, action::open_divert},
  };
  for (auto& r : rows) {
    auto o = transition(r.from, r.e, t0, "cause");
    EXPECT_EQ(o.next.current, r.to) << to_string(r.from.current) << " + " << to_string(r.e);
    EXPECT_TRUE(has(o, r.must)) << to_string(r.from.current) << " + " << to_string(r.e) << " lacks "
                                << to_string(r.must);
  }
}

TEST(engine_fsm, irrelevant_events_change_nothing) {
  for (auto e : {event::checks_ok, event::proxy_healthy, event::resume, event::stop, event::backoff_tick}) {
    auto o = transition(in(state::idle), e, t0);
    EXPECT_EQ(o.next.current, state::idle);
    EXPECT_TRUE(o.actions.empty()) << to_string(e);
  }
  // No backoff while paused by sleep.
  auto o = transition(in(state::reconnecting, true), event::backoff_tick, t0);
  EXPECT_TRUE(o.actions.empty());
  o = transition(in(state::reconnecting, true), event::proxy_unreachable, t0);
  EXPECT_TRUE(o.actions.empty());
}

TEST(engine_fsm, reconnect_attempts_and_cap) {
  machine m = transition(in(state::active), event::proxy_unreachable, t0, "refused").next;
  EXPECT_EQ(m.attempt, 1u);
  EXPECT_EQ(m.detail, "reconnecting (attempt 1)");
  EXPECT_EQ(m.last_error, "refused");
  auto o = transition(m, event::backoff_tick, t0 + 1s);
  EXPECT_TRUE(has(o, action::probe_upstream));
  m = transition(m, event::proxy_unreachable, t0 + 1s, "refused").next;
  EXPECT_EQ(m.attempt, 2u);
  EXPECT_EQ(m.current, state::reconnecting);
  o = transition(m, event::backoff_tick, t0 + 300s);
  EXPECT_EQ(o.next.current, state::failed);
  EXPECT_NE(o.next.last_error.find("5 min"), std::string::npos);
  EXPECT_NE(o.next.last_error.find("refused"), std::string::npos);
  auto healthy = transition(m, event::proxy_healthy, t0 + 10s);
  EXPECT_EQ(healthy.next.attempt, 0u);
}

TEST(engine_fsm, driver_loss_twice_in_30s_fails) {
  machine m = in(state::active);
  m = transition(m, event::driver_lost, t0, "recv failed").next;
  EXPECT_EQ(m.current, state::active);
  EXPECT_EQ(m.detail, "reopening driver");
  m = transition(m, event::driver_reopened, t0 + 2s).next;
  EXPECT_EQ(m.detail, "");
  auto second = transition(m, event::driver_lost, t0 + 29s, "recv failed");
  EXPECT_EQ(second.next.current, state::failed);
  auto later = transition(m, event::driver_lost, t0 + 31s, "recv failed");
  EXPECT_EQ(later.next.current, state::active);
  EXPECT_TRUE(has(later, action::schedule_reopen));
}

TEST(engine_fsm, sleep_pauses_resume_restarts) {
  auto o = transition(in(state::active), event::sleep, t0);
  EXPECT_TRUE(o.next.paused);
  EXPECT_EQ(o.next.detail, "paused (system sleep)");
  EXPECT_FALSE(has(o, action::schedule_backoff));
  auto r = transition(o.next, event::resume, t0 + 1h);
  EXPECT_EQ(r.next.current, state::starting);
  EXPECT_FALSE(r.next.paused);
  EXPECT_EQ(r.actions.front(), action::wait_default_route);
}

TEST(engine_fsm, proxy_late_at_start_is_retried_not_failed) {
  // Boot before the network, a proxy started a second later: Starting goes
  // to Reconnecting (targets refused, rules kept), then Active by itself.
  auto o = transition(in(state::starting), event::proxy_unreachable, t0, "connect refused");
  EXPECT_EQ(o.next.current, state::reconnecting);
  EXPECT_FALSE(has(o, action::remove_rules));
  EXPECT_FALSE(has(o, action::close_divert));
  EXPECT_EQ(o.next.attempt, 1u);
  EXPECT_EQ(o.next.last_error, "connect refused");
  auto back = transition(o.next, event::proxy_healthy, t0 + 1s);
  EXPECT_EQ(back.next.current, state::active);
  // The cap still applies from the first failure.
  auto tick = transition(o.next, event::backoff_tick, t0 + 301s);
  EXPECT_EQ(tick.next.current, state::failed);
  // Definite configuration errors still fail at once.
  auto auth = transition(in(state::starting), event::checks_failed, t0, "authentication failed");
  EXPECT_EQ(auth.next.current, state::failed);
  EXPECT_EQ(auth.next.last_error, "authentication failed");
}

TEST(engine_fsm, tcp_only_proxy_runs_active_and_says_why) {
  auto o = transition(in(state::starting), event::checks_ok_no_udp, t0);
  EXPECT_EQ(o.next.current, state::active);
  EXPECT_TRUE(o.next.no_udp);
  EXPECT_EQ(o.next.detail, no_udp_detail);
  // The detail survives a driver reopen; a full recovery clears it.
  auto lost = transition(o.next, event::driver_lost, t0 + 1s, "gone");
  auto reopened = transition(lost.next, event::driver_reopened, t0 + 3s);
  EXPECT_EQ(reopened.next.detail, no_udp_detail);
  // UDP found working again while Active: back to full Active at once.
  auto back = transition(reopened.next, event::checks_ok, t0 + 4s);
  EXPECT_EQ(back.next.current, state::active);
  EXPECT_FALSE(back.next.no_udp);
  EXPECT_EQ(back.next.detail, "");
  auto down = transition(reopened.next, event::proxy_unreachable, t0 + 5s, "refused");
  auto healthy = transition(down.next, event::proxy_healthy, t0 + 6s);
  EXPECT_FALSE(healthy.next.no_udp);
  EXPECT_EQ(healthy.next.detail, "");
}

TEST(engine_fsm, restart_keeps_the_rules) {
  for (auto s : {state::starting, state::active, state::reconnecting, state::failed}) {
    auto o = transition(in(s), event::restart, t0, "config changed");
    EXPECT_EQ(o.next.current, state::starting) << to_string(s);
    EXPECT_FALSE(has(o, action::remove_rules)) << to_string(s) << ": a restart must not open a gap";
    EXPECT_TRUE(has(o, action::close_flows));
    EXPECT_TRUE(has(o, action::open_divert));
  }
  EXPECT_EQ(transition(in(state::idle), event::restart, t0).next.current, state::idle);
}
