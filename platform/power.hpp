#pragma once
/// System sleep and resume notifications (Linux: logind PrepareForSleep over
/// D-Bus; Windows: WM_POWERBROADCAST).
#include <functional>
#include <memory>

#include "core/result.hpp"

namespace drover::platform {

class power_watch {
 public:
  virtual ~power_watch() = default;
};

/// Calls `on_event(true)` before sleep and `on_event(false)` after resume, on
/// its own thread. Fails when no system bus / login manager is reachable.
result<std::unique_ptr<power_watch>> watch_power(std::function<void(bool sleeping)> on_event);

}  // namespace drover::platform
