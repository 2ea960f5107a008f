#pragma once
#include <memory>
#include <vector>

#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"

namespace drover {

/// One synchronous scan: the PIDs whose executable is a target.
std::vector<uint32_t> scan_targets(const engine_shared& shared);

/// Rescans every 2 s, publishes the set and tells the supervisor on change.
procscan_actor::behavior_type procscan(procscan_actor::pointer self, std::shared_ptr<engine_shared> shared,
                                       supervisor_actor parent);

}  // namespace drover
