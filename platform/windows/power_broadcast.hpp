#pragma once
/// The link between the main loop's window, which receives WM_POWERBROADCAST
/// (platform/windows/main_loop.cpp), and the sleep/resume watches that
/// watch_power hands out (platform/windows/power.cpp).
#include <cstdint>

namespace drover::platform::win {

/// Called by the main loop's window procedure, on the loop's thread, with the
/// broadcast's WPARAM (PBT_*): every live watch sees it.
void on_power_broadcast(std::uintptr_t event);

}  // namespace drover::platform::win
