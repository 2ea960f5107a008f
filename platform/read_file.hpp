#pragma once
/// Reads a small text file (a config) without ever blocking or swallowing
/// something that is not a file: a FIFO, a device or a huge file is refused
/// at once with a reason, instead of hanging or filling memory.
#include <cstddef>
#include <string>

#include "core/result.hpp"

namespace drover::platform {

/// The whole content of the regular file at `path`, at most `limit` bytes.
/// Error codes: "not_found" (nothing there: the caller may use defaults),
/// "is_directory", "not_regular" (FIFO, socket, device), "too_large",
/// "permission_denied", "io" (anything else). The message is the reason
/// alone ("not found", "is a directory", "larger than 1 MB", ...), without
/// the path: the caller says what the file is for.
result<std::string> read_small_file(const std::string& path, size_t limit);

}  // namespace drover::platform
