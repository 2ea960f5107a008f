#pragma once
/// The diagnostics dump (docs/diagnostics.md): everything a bug report
/// needs, in one JSON object, without the proxy's login or password.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/engine_shared.hpp"

namespace drover::app {

/// What the engine host hands over; the rest is asked of the OS and the log.
struct dump_sources {
  std::shared_ptr<engine_shared> shared;
  nlohmann::json status;    ///< what `status` answers now
  nlohmann::json lifetime;  ///< lifetime_stats::to_json()
  std::string config_path;
  std::vector<std::string> config_warnings;
};

/// Builds the dump. Blocking (it looks up each flow's process): not on an
/// actor's shared thread.
nlohmann::json make_dump(const dump_sources& src);

/// "drover-dump-YYYYmmdd-HHMMSS.json" for this moment (local time, as the
/// user reads a clock).
std::string dump_file_name();

}  // namespace drover::app
