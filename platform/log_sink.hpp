#pragma once
/// The log file: a rotating spdlog sink that never follows a symlink.
#include <cstddef>
#include <memory>
#include <string>

#include <spdlog/sinks/sink.h>

#include "core/result.hpp"

namespace drover::platform {

/// A sink writing `dir`/drover.log, opened through open_for_write (O_APPEND|O_NOFOLLOW; 0640
/// root:drover when that group exists, else 0600). A drover.log that is a symlink or not a
/// regular file is refused here, with an error naming it. When a message would take the file
/// past `max_bytes` (0: no limit), it rotates like spdlog's rotating sink: drover.log →
/// drover.1.log → … → drover.`backups`.log, the oldest dropped; a symlink in the way is removed,
/// never followed. Each message reaches the kernel at once (no user-space buffer, no fsync), so
/// flush() has nothing to do. Later write or rotation errors go to stderr, never throw.
result<std::shared_ptr<spdlog::sinks::sink>> make_log_file_sink(const std::string& dir, std::size_t max_bytes,
                                                                std::size_t backups);

}  // namespace drover::platform
