// The real environment: the OS through platform/, the real child actors.
#include <ctime>

#include "actors/divert_reader.hpp"
#include "actors/engine_env.hpp"
#include "actors/procscan.hpp"
#include "actors/relay_host.hpp"
#include "actors/upstream_monitor.hpp"
#include "platform/process_table.hpp"
#include "platform/routes.hpp"
#include "platform/safe_file.hpp"
#include "platform/upstream_probe.hpp"

namespace drover {
namespace {

class real_env final : public engine_env {
 public:
  std::vector<uint32_t> scan_targets(const engine_shared& shared) override { return drover::scan_targets(shared); }
  uint32_t own_pid() const override { return platform::own_pid(); }
  result<std::unique_ptr<platform::redirector>> install_redirect(const platform::redirect_plan& plan) override {
    return platform::install_redirect(plan);
  }
  relay_host_actor spawn_relays(caf::actor_system& sys, std::shared_ptr<engine_shared> shared,
                                supervisor_actor parent) override {
    return sys.spawn(relay_host, std::move(shared), parent);
  }
  divert_reader_actor spawn_reader(caf::actor_system& sys, std::shared_ptr<engine_shared> shared,
                                   supervisor_actor parent) override {
    return sys.spawn<caf::detached>(divert_reader, std::move(shared), parent);
  }
  procscan_actor spawn_scanner(caf::actor_system& sys, std::shared_ptr<engine_shared> shared) override {
    return sys.spawn(procscan, std::move(shared));
  }
  upstream_monitor_actor spawn_monitor(caf::actor_system& sys, config::proxy_section proxy, supervisor_actor parent,
                                       bool udp) override {
    return sys.spawn<caf::detached>(upstream_monitor, std::move(proxy), parent, udp);
  }
  void probe(caf::actor_system& sys, const config::proxy_section& proxy, supervisor_actor parent,
             uint64_t generation) override {
    sys.spawn<caf::detached>([proxy, parent, generation](caf::event_based_actor* a) {
      // Always an answer: a probe that dies silently would leave the engine
      // waiting in Reconnecting for good (seen when descriptors ran out).
      probe_result r;
      r.generation = generation;
      try {
        auto rep = platform::probe_upstream(proxy);
        r.ok = rep.ok;
        r.failure = rep.failure;
        r.pipelining = rep.pipelining;
        r.tcp_ok = rep.tcp_ok;
        r.udp_ok = rep.udp_ok;
        r.unreachable = rep.unreachable;
        r.udp_failure = rep.udp_failure;
        for (auto& a : rep.addresses) r.addresses.push_back(a.addr_string());
      } catch (const std::exception& e) {
        r.failure = std::string("cannot probe the proxy: ") + e.what();
      }
      caf::anon_send(parent, r);
      a->quit();
    });
  }
  std::string write_crash_dump(const std::string& dir, const std::string& text) override {
    if (dir.empty()) return "nowhere (no usable state directory)";
    std::time_t t = std::time(nullptr);
    char name[64];
    std::strftime(name, sizeof name, "crash-%Y%m%d-%H%M%S.txt", std::localtime(&t));
    std::string path = dir + "/" + name;
    if (auto st = platform::write_file(path, text, platform::file_mode::shared_with_group); !st)
      return "nowhere (" + st.err().message + ")";
    return path;
  }
  bool has_default_route() override { return platform::has_default_route(); }
};

}  // namespace

std::shared_ptr<engine_env> make_real_env() { return std::make_shared<real_env>(); }

}  // namespace drover
