#pragma once
/// What the diagnostics dump shows of the log: the last lines in memory (a
/// spdlog ring-buffer sink on the default logger) and where the log file is.
/// Set up once by `drover run`'s logging; read by the dump and by status.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/sink.h>

namespace drover::app {

/// Lines the ring keeps.
constexpr std::size_t log_ring_lines = 500;

/// The ring-buffer sink (one per process, created on first use): add it to
/// the logger so recent_log_lines() has something to show.
std::shared_ptr<spdlog::sinks::sink> log_ring_sink();

/// The last log_ring_lines lines, oldest first, formatted as in the file and
/// without their line ends.
std::vector<std::string> recent_log_lines();

/// Says the file sink writes drover.log in `dir` (platform/log_sink.hpp).
void set_log_file_dir(const std::string& dir);
/// The full path of drover.log once the file sink is in place; "" when the
/// engine logs to stderr only.
std::string log_file_path();

}  // namespace drover::app
