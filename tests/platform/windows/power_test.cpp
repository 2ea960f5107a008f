// The sleep/resume watch: it starts, stops fast, and turns the power
// broadcasts (sent here by hand to its window, as the system would) into
// one report per sleep and one per resume.
#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <mutex>
#include <vector>

#include "platform/power.hpp"

namespace {

using namespace std::chrono_literals;
using drover::platform::watch_power;
using clock_type = std::chrono::steady_clock;

struct recorder {
  std::mutex mutex;
  std::vector<bool> events;  // true: going to sleep, false: resumed
  void add(bool sleeping) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(sleeping);
  }
  std::vector<bool> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return events;
  }
};

// Top-level where a desktop exists, message-only where none does.
HWND watch_window() {
  HWND w = FindWindowW(L"DroverPowerWatch", nullptr);
  return w ? w : FindWindowExW(HWND_MESSAGE, nullptr, L"DroverPowerWatch", nullptr);
}

TEST(Power, StartsAndStopsWithinOneSecond) {
  auto t0 = clock_type::now();
  auto w = watch_power([](bool) {});
  ASSERT_TRUE(w.ok()) << w.err().message;
  EXPECT_NE(watch_window(), nullptr);
  auto t1 = clock_type::now();
  w.value().reset();
  EXPECT_LT(clock_type::now() - t1, 1s);
  EXPECT_LT(t1 - t0, 1s);
  EXPECT_EQ(watch_window(), nullptr);
}

TEST(Power, OneReportPerSleepAndPerResume) {
  recorder r;
  auto w = watch_power([&](bool sleeping) { r.add(sleeping); });
  ASSERT_TRUE(w.ok()) << w.err().message;
  HWND h = watch_window();
  ASSERT_NE(h, nullptr);
  // SendMessage waits for the watch thread to handle each one.
  SendMessageW(h, WM_POWERBROADCAST, PBT_APMSUSPEND, 0);
  SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMEAUTOMATIC, 0);
  SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMESUSPEND, 0);      // the same wake-up, seen by the user
  SendMessageW(h, WM_POWERBROADCAST, PBT_APMPOWERSTATUSCHANGE, 0);  // not ours
  SendMessageW(h, WM_CLOSE, 0, 0);                                  // taskkill's request is the main window's business
  EXPECT_TRUE(IsWindow(h));
  SendMessageW(h, WM_POWERBROADCAST, PBT_APMSUSPEND, 0);
  SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMESUSPEND, 0);
  EXPECT_EQ(r.get(), (std::vector<bool>{true, false, true, false}));
}

TEST(Power, TwoWatchesAtOnce) {
  auto a = watch_power([](bool) {});
  auto b = watch_power([](bool) {});
  ASSERT_TRUE(a.ok() && b.ok());
}

}  // namespace
