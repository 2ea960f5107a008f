#pragma once
#include <memory>
#include <vector>

#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"

namespace drover {

/// One synchronous scan: the PIDs whose executable is a target.
std::vector<uint32_t> scan_targets(const engine_shared& shared);

/// Rescans every 2 s and publishes the set in `shared` (the classifier and
/// `status` read it there).
procscan_actor::behavior_type procscan(procscan_actor::pointer self, std::shared_ptr<engine_shared> shared);

}  // namespace drover
