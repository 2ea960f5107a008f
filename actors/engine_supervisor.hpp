#pragma once
#include <memory>

#include "actors/engine_shared.hpp"
#include "core/engine_fsm.hpp"
#include "messages/messages.hpp"

namespace drover {

struct supervisor_options {
  uint16_t queue_num = 0;
  std::string version;
  std::string crash_dir;  ///< where crash dumps go
};

/// Spawns the engine's root actor (detached: it installs rules and resolves
/// names, which block): it carries out the actions of core/engine_fsm and
/// owns the rules and the children (relay_host, divert_reader, procscan).
supervisor_actor spawn_engine_supervisor(caf::actor_system& sys, std::shared_ptr<engine_shared> shared,
                                         supervisor_options opts);

}  // namespace drover
