#pragma once
// Internal to core/config*.cpp: the text-level work below the TOML reader
// (config_scan.cpp), shared by the reader (config.cpp) and the writer
// (config_write.cpp).
#include <optional>
#include <string>

#include "core/config.hpp"

namespace drover::config {

/// What toml++ may be given: the input with the code points it must never
/// see escaped or replaced, or the error that stopped the scan (see
/// config_scan.cpp).
struct sanitized {
  std::string text;
  std::optional<diagnostic> error;
};

sanitized sanitize(const std::string& in);

/// "5s", "2m", "1h", "500ms": the largest unit that divides it exactly
/// (parse_duration reads it back).
std::string duration_text(millis m);

}  // namespace drover::config
