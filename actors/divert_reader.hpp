#pragma once
#include <memory>

#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"

namespace drover {

/// Spawned detached: runs the capture loop (platform/redirect.hpp's
/// flow_capture, decided by a flow_classifier) on its own thread and tells
/// the supervisor when the capture is lost.
divert_reader_actor::behavior_type divert_reader(divert_reader_actor::pointer self,
                                                 std::shared_ptr<engine_shared> shared, supervisor_actor parent);

}  // namespace drover
