// Sleep and resume reach the main loop's window as WM_POWERBROADCAST
// (main_loop.cpp), so they are handled on the main thread like every other
// window message, the tray's included: a watch is only an entry in the list
// that window's procedure hands the broadcasts to. Events that arrive while
// no loop runs are the system's to drop; none is needed before the loop.
#include "platform/power.hpp"

#include <windows.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "platform/windows/power_broadcast.hpp"

namespace drover::platform {
namespace {

class broadcast_watch;

// Held while a watch's callback runs, so a watch destroyed on another thread
// is never called after its destructor returned.
std::mutex mutex;
std::vector<broadcast_watch*> watches;  // guarded by mutex

class broadcast_watch final : public power_watch {
 public:
  explicit broadcast_watch(std::function<void(bool)> cb) : cb_(std::move(cb)) {
    std::lock_guard<std::mutex> lock(mutex);
    watches.push_back(this);
  }
  ~broadcast_watch() override {
    std::lock_guard<std::mutex> lock(mutex);
    watches.erase(std::remove(watches.begin(), watches.end(), this), watches.end());
  }
  broadcast_watch(const broadcast_watch&) = delete;
  broadcast_watch& operator=(const broadcast_watch&) = delete;

  // Every wake-up brings RESUMEAUTOMATIC, one the user causes RESUMESUSPEND
  // as well: one report for both (and for any message that came twice).
  void on_broadcast(std::uintptr_t event) {
    if (event == PBT_APMSUSPEND && state_ != phase::asleep) {
      state_ = phase::asleep;
      cb_(true);
    } else if ((event == PBT_APMRESUMEAUTOMATIC || event == PBT_APMRESUMESUSPEND) && state_ != phase::resumed) {
      state_ = phase::resumed;
      cb_(false);
    }
  }

 private:
  enum class phase { awake, asleep, resumed };
  std::function<void(bool)> cb_;
  phase state_ = phase::awake;  // guarded by mutex
};

}  // namespace

namespace win {

void on_power_broadcast(std::uintptr_t event) {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto* w : watches) w->on_broadcast(event);
}

}  // namespace win

result<std::unique_ptr<power_watch>> watch_power(std::function<void(bool)> on_event) {
  return std::unique_ptr<power_watch>(std::make_unique<broadcast_watch>(std::move(on_event)));
}

}  // namespace drover::platform
