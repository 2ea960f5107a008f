#pragma once
/// SHA-256 through Windows' own CNG (bcrypt): the install id of a path, and
/// the check of the WinDivert files Drover loads. Defined in sha256.cpp.
#include <cstddef>
#include <optional>
#include <string>

namespace drover::platform::win {

/// The digest as 64 lowercase hex digits; nothing if CNG fails.
std::optional<std::string> sha256_hex(const void* data, std::size_t size);

}  // namespace drover::platform::win
