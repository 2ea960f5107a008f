#pragma once
#include <memory>

#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"

namespace drover {

/// Owns the data plane (Asio thread) and the loopback TCP and UDP listeners
/// the redirect steers flows to; every accepted flow gets its relay actor.
/// Exiting closes every flow.
relay_host_actor::behavior_type relay_host(relay_host_actor::pointer self, std::shared_ptr<engine_shared> shared,
                                           supervisor_actor parent);

}  // namespace drover
