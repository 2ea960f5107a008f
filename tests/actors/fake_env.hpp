#pragma once
// Stand-ins at the OS seam for deterministic supervisor tests: no sockets,
// no netfilter, no threads; every call is recorded for the test to check.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine_env.hpp"
#include "actors/exceptions.hpp"

namespace drover::testing {

struct fake_world {
  std::vector<uint32_t> targets{4242};
  bool rules_intact = true;
  bool default_route = true;
  bool fail_install = false;
  int installs = 0;
  int updates = 0;  ///< installs done in place (no moment without rules)
  int rules_alive = 0;
  std::vector<uint32_t> plan_pids;  ///< own_pid of every plan installed or swapped in
  std::vector<uint64_t> probes;     ///< generations asked for
  std::vector<std::string> dumps;
  int monitors = 0;
  int tcp_only_monitors = 0;
  std::array<uint8_t, 4> proxy_ip{10, 9, 0, 2};  ///< what the proxy host resolves to now
  relay_host_actor last_relays;
};

class fake_rules : public platform::redirector {
 public:
  explicit fake_rules(fake_world& w) : w_(w) { ++w_.rules_alive; }
  ~fake_rules() override { --w_.rules_alive; }
  bool intact() const override { return w_.rules_intact; }
  status update(const platform::redirect_plan& plan) override {
    w_.plan_pids.push_back(plan.inputs.own_pid);
    ++w_.installs;
    ++w_.updates;
    w_.rules_intact = true;
    if (w_.fail_install) return make_error("rules", "iptables-restore failed");
    return ok();
  }

 private:
  fake_world& w_;
};

// A relay host that answers its ports and throws when told to close (the
// test's way to make a child fail with an exception).
inline relay_host_actor::behavior_type fake_relays(relay_host_actor::pointer self) {
  report_exceptions(self);
  return {
      [](close_atom) { throw std::runtime_error("boom in relay_host"); },
      [](ports_atom) { return caf::result<uint16_t, uint16_t>(40001, 40002); },
  };
}
inline divert_reader_actor::behavior_type fake_reader(divert_reader_actor::pointer self) {
  return {[self](close_atom) { self->quit(); }};
}
inline procscan_actor::behavior_type fake_scanner(procscan_actor::pointer) {
  return {[](scan_atom) {}};
}
inline upstream_monitor_actor::behavior_type fake_monitor(upstream_monitor_actor::pointer self) {
  return {[self](close_atom) { self->quit(); }};
}

class fake_env final : public engine_env {
 public:
  static constexpr uint32_t own_pid_value = 777;
  explicit fake_env(fake_world& w) : w_(w) {}
  bool blocking_detached() const override { return false; }  // the test coordinator runs it
  std::vector<uint32_t> scan_targets(const engine_shared&) override { return w_.targets; }
  uint32_t own_pid() const override { return own_pid_value; }
  result<std::unique_ptr<platform::redirector>> install_redirect(const platform::redirect_plan& plan) override {
    w_.plan_pids.push_back(plan.inputs.own_pid);
    ++w_.installs;
    if (w_.fail_install) return make_error("rules", "iptables-restore failed");
    return std::unique_ptr<platform::redirector>(std::make_unique<fake_rules>(w_));
  }
  relay_host_actor spawn_relays(caf::actor_system& sys, std::shared_ptr<engine_shared>, supervisor_actor) override {
    return w_.last_relays = sys.spawn(fake_relays);
  }
  divert_reader_actor spawn_reader(caf::actor_system& sys, std::shared_ptr<engine_shared>, supervisor_actor) override {
    return sys.spawn(fake_reader);
  }
  procscan_actor spawn_scanner(caf::actor_system& sys, std::shared_ptr<engine_shared>) override {
    return sys.spawn(fake_scanner);
  }
  upstream_monitor_actor spawn_monitor(caf::actor_system& sys, config::proxy_section, supervisor_actor,
                                       bool udp) override {
    ++w_.monitors;
    if (!udp) ++w_.tcp_only_monitors;
    return sys.spawn(fake_monitor);
  }
  void probe(caf::actor_system&, const config::proxy_section&, supervisor_actor, uint64_t generation) override {
    w_.probes.push_back(generation);
  }
  std::string write_crash_dump(const std::string&, const std::string& text) override {
    w_.dumps.push_back(text);
    return "crash-test.txt";
  }
  bool has_default_route() override { return w_.default_route; }

 private:
  fake_world& w_;
};

}  // namespace drover::testing
