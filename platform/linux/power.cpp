// logind's PrepareForSleep(bool) signal over the system bus (sd-bus).
#include <systemd/sd-bus.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "platform/power.hpp"

namespace drover::platform {
namespace {

class logind_watch final : public power_watch {
 public:
  explicit logind_watch(std::function<void(bool)> cb) : cb_(std::move(cb)) {}
  ~logind_watch() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (slot_) sd_bus_slot_unref(slot_);
    if (bus_) sd_bus_flush_close_unref(bus_);
  }

  status open() {
    int r = sd_bus_open_system(&bus_);
    if (r < 0) return make_error("power", std::string("no system bus: ") + std::strerror(-r));
    r = sd_bus_match_signal(bus_, &slot_, "org.freedesktop.login1", "/org/freedesktop/login1",
                            "org.freedesktop.login1.Manager", "PrepareForSleep", &logind_watch::on_signal, this);
    if (r < 0) return make_error("power", std::string("cannot watch logind: ") + std::strerror(-r));
    thread_ = std::thread([this] { loop(); });
    return ok();
  }

 private:
  static int on_signal(sd_bus_message* m, void* user, sd_bus_error*) {
    int sleeping = 0;
    if (sd_bus_message_read(m, "b", &sleeping) >= 0) static_cast<logind_watch*>(user)->cb_(sleeping != 0);
    return 0;
  }

  void loop() {
    while (!stop_) {
      int r = sd_bus_process(bus_, nullptr);
      if (r < 0) return;
      if (r > 0) continue;
      sd_bus_wait(bus_, 200000);  // wake up to notice stop_
    }
  }

  std::function<void(bool)> cb_;
  sd_bus* bus_ = nullptr;
  sd_bus_slot* slot_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

result<std::unique_ptr<power_watch>> watch_power(std::function<void(bool)> on_event) {
  auto w = std::make_unique<logind_watch>(std::move(on_event));
  if (auto st = w->open(); !st) return st.err();
  return std::unique_ptr<power_watch>(std::move(w));
}

}  // namespace drover::platform
