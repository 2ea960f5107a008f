#pragma once
/// System sleep and resume notifications (Linux: logind PrepareForSleep over
/// D-Bus; Windows: WM_POWERBROADCAST to the main loop's window).
#include <functional>
#include <memory>

#include "core/result.hpp"

namespace drover::platform {

class power_watch {
 public:
  virtual ~power_watch() = default;
};

/// Calls `on_event(true)` before sleep and `on_event(false)` after resume.
/// Linux: on a thread of its own; fails when no system bus / login manager is
/// reachable. Windows: on the thread of run_main_loop, whose window receives
/// the broadcasts (nothing arrives while no loop runs); never fails.
result<std::unique_ptr<power_watch>> watch_power(std::function<void(bool sleeping)> on_event);

}  // namespace drover::platform
