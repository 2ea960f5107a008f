#pragma once
/// What the engine answers on its control channel (docs/control-protocol.md):
/// every request of `drover status|stop|dump` and of the tray.
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"

namespace drover::app {

struct control_context {
  caf::actor_system* sys = nullptr;
  supervisor_actor sup;
  std::shared_ptr<engine_shared> shared;
  std::function<nlohmann::json()> status;  ///< what `status` answers
  std::function<nlohmann::json()> dump;    ///< what `dump` answers and `save-dump` writes (blocking)
  std::function<void()> reload;            ///< re-read the config (as SIGHUP)
  std::function<void()> quit;              ///< `quit`: the process stops
  std::function<void()> show;              ///< `show`: a second launch asks us to show ourselves
  bool test_hooks = false;                 ///< `sleep`/`resume` (drover run --test-hooks)
};

/// Answers one request through `reply`, at once or (stop, check, dump,
/// save-dump) later from another thread; exactly once.
void handle_control_request(const control_context& c, const std::string& request,
                            std::function<void(std::string)> reply);

}  // namespace drover::app
