#pragma once
/// The engine host: the actor system, the supervisor and its children, the
/// config watcher and the power watch — everything that is the engine,
/// whatever front ends (the control channel, the service manager, the tray)
/// look at it. Built by `drover run` once the start-up checks passed.
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine_shared.hpp"
#include "app/config_file.hpp"
#include "app/control_requests.hpp"
#include "messages/messages.hpp"

namespace drover::platform {
class power_watch;
}

namespace drover::app {

class lifetime_stats;

class engine_host {
 public:
  /// `lc` is the config as loaded at start (its path is re-read on reload).
  explicit engine_host(const loaded_config& lc);
  /// Stops the engine (its rules go first) and waits for every actor.
  ~engine_host();
  engine_host(const engine_host&) = delete;
  engine_host& operator=(const engine_host&) = delete;

  /// A front end's view: called on every published state change, in order,
  /// from a forwarding actor's thread (the supervisor's `subscribe`).
  /// Subscribe before start().
  using subscriber = std::function<void(const status_snapshot&)>;
  void subscribe(subscriber s);
  /// Spawns the supervisor, the config watcher and the power watch, and
  /// starts the engine.
  void start();
  /// Reads the config file again (SIGHUP, `drover reload`).
  void reload();
  /// What `status` answers: from what the supervisor last published, never
  /// by asking it, so it answers at once while the supervisor is busy.
  nlohmann::json status() const;
  /// The diagnostics dump (docs/diagnostics.md). Blocking: looks up the
  /// process of every flow.
  nlohmann::json dump() const;
  /// The control channel's view of the engine, with the front end's hooks.
  control_context control(std::function<void()> quit, std::function<void()> show, bool test_hooks);
  /// Stops the engine and every actor; idempotent (the destructor calls it).
  void stop();

 private:
  loaded_config lc_;
  std::shared_ptr<engine_shared> shared_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::unique_ptr<lifetime_stats> lifetime_;
  supervisor_actor sup_;
  caf::actor forwarder_;    ///< subscribed to the supervisor; calls subscribers_
  caf::actor stats_saver_;  ///< saves lifetime_ every minute
  config_watch_actor watcher_;
  std::unique_ptr<platform::power_watch> power_;
  std::vector<subscriber> subscribers_;
  bool stopped_ = false;
};

}  // namespace drover::app
