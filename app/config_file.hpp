#pragma once
#include <optional>
#include <string>

#include "core/config.hpp"

namespace drover::app {

struct loaded_config {
  config::config cfg;
  std::string path;
  std::optional<std::string> error;  ///< "file:line:col: key: message"
  std::vector<std::string> warnings;
  bool missing = false;
};

config::target_os this_os();
/// Reads and parses the config file (default path when `path` is empty).
loaded_config load_config_file(const std::string& path);

}  // namespace drover::app
