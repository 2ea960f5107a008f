#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace drover::app {

/// A config file is text of a few KB; anything bigger is a mistake (a log,
/// an image, /dev/zero behind a symlink) and is refused before it is read.
constexpr size_t max_config_bytes = 1024 * 1024;

struct loaded_config {
  config::config cfg;  ///< the defaults unless the file was read and parsed cleanly
  std::string path;
  /// Any problem, read or parse: "cannot read config PATH: REASON" or
  /// "file:line:col: key: message". Callers that check only this one still
  /// treat an unreadable file as broken, never as "use the defaults quietly".
  std::optional<std::string> error;
  /// The file exists (or cannot be told apart from existing) but cannot be
  /// read: "cannot read config /x/y: permission denied" (or "is a directory",
  /// "not a regular file", "larger than 1 MB", ...). Also copied to `error`.
  std::optional<std::string> read_error;
  std::vector<std::string> warnings;
  /// Nothing at the path (ENOENT only): the defaults apply. Never set together
  /// with `error`.
  bool missing = false;
};

/// Reads and parses the config file (default path when `path` is empty).
loaded_config load_config_file(const std::string& path);

}  // namespace drover::app
