#pragma once
// Internal to platform/windows: which machines Drover runs on, as a pure
// function of the native machine IsWow64Process2 reports, so the refusal is
// tested without an ARM64 machine.
#include <cstdint>

#include "core/result.hpp"

namespace drover::platform::win {

inline constexpr uint16_t machine_arm64 = 0xAA64;  ///< IMAGE_FILE_MACHINE_ARM64

/// ok, or the sentence the user reads on a machine WinDivert has no driver for.
inline status machine_supported(uint16_t native_machine) {
  if (native_machine == machine_arm64)
    return make_error("unsupported_machine", "Drover requires x86-64 Windows; WinDivert has no ARM64 driver");
  return ok();
}

}  // namespace drover::platform::win
