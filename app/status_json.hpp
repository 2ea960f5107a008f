#pragma once
#include <nlohmann/json.hpp>

#include "messages/messages.hpp"

namespace drover::app {

nlohmann::json to_json(const status_snapshot& s);
/// One human line per field, as `drover status` prints it.
std::string to_text(const nlohmann::json& status);

}  // namespace drover::app
