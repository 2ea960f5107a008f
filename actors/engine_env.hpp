#pragma once
/// Everything the supervisor does to the outside world, behind one seam:
/// the real environment touches the OS; tests substitute stand-ins and drive
/// the supervisor in virtual time.
#include <memory>
#include <string>
#include <vector>

#include "actors/engine_shared.hpp"
#include "core/result.hpp"
#include "messages/messages.hpp"
#include "platform/redirect.hpp"

namespace drover {

class engine_env {
 public:
  virtual ~engine_env() = default;
  /// Blocking calls (scan_targets, install_redirect, intact) run in the rules
  /// keeper; detached (on its own thread) unless the env says they are quick.
  virtual bool blocking_detached() const { return true; }
  virtual std::vector<uint32_t> scan_targets(const engine_shared& shared) = 0;
  /// This process's id, which the redirect plan exempts from capture.
  virtual uint32_t own_pid() const = 0;
  virtual result<std::unique_ptr<platform::redirector>> install_redirect(const platform::redirect_plan& plan) = 0;
  virtual relay_host_actor spawn_relays(caf::actor_system& sys, std::shared_ptr<engine_shared> shared,
                                        supervisor_actor parent) = 0;
  virtual divert_reader_actor spawn_reader(caf::actor_system& sys, std::shared_ptr<engine_shared> shared,
                                           supervisor_actor parent) = 0;
  virtual procscan_actor spawn_scanner(caf::actor_system& sys, std::shared_ptr<engine_shared> shared) = 0;
  /// Watches the proxy while Active; `udp`: through a kept-open UDP
  /// association, else (a TCP-only proxy) by repeated TCP checks.
  virtual upstream_monitor_actor spawn_monitor(caf::actor_system& sys, config::proxy_section proxy,
                                               supervisor_actor parent, bool udp) = 0;
  /// Runs the health probe off the caller's thread (it resolves proxy.host);
  /// the answer arrives as probe_result{generation}.
  virtual void probe(caf::actor_system& sys, const config::proxy_section& proxy, supervisor_actor parent,
                     uint64_t generation) = 0;
  /// Writes a crash dump; returns where it went.
  virtual std::string write_crash_dump(const std::string& dir, const std::string& text) = 0;
  /// True once a default route exists (resume waits for one, up to 5 s).
  virtual bool has_default_route() = 0;
};

std::shared_ptr<engine_env> make_real_env();

}  // namespace drover
