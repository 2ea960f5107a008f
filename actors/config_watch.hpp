#pragma once
#include <string>

#include "messages/messages.hpp"

namespace drover {

/// Checks the config file once a second (size and modification time: no
/// OS-specific watch API needed) and tells the supervisor when it changed.
config_watch_actor::behavior_type config_watch(config_watch_actor::pointer self, std::string path,
                                               supervisor_actor parent);

}  // namespace drover
