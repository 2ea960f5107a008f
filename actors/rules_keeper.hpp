#pragma once
/// The supervisor's hands for blocking OS work: installing and checking the
/// redirect and the first process scan run here, so the supervisor and
/// `status` never wait on them.
#include <memory>

#include "actors/engine_env.hpp"
#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"
#include "platform/redirect.hpp"

namespace drover {

struct rules_plan {
  platform::redirect_plan redirect;
};

/// Spawned linked to the supervisor (detached where the env's work blocks):
/// when it exits, for whatever reason, the rules go with it.
rules_keeper_actor::behavior_type rules_keeper(rules_keeper_actor::pointer self, std::shared_ptr<engine_env> env,
                                               std::shared_ptr<engine_shared> shared);

}  // namespace drover
