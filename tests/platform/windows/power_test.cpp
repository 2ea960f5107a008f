// The sleep/resume watch: the power broadcasts (sent here by hand to the
// main loop's window, as the system would) become one report per sleep and
// one per resume, delivered on the main loop's thread.
#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "platform/main_loop.hpp"
#include "platform/power.hpp"
#include "tests/platform/windows/loop_window.hpp"

namespace {

using namespace std::chrono_literals;
using drover::platform::os_request;
using drover::platform::post_main_loop;
using drover::platform::run_main_loop;
using drover::platform::watch_power;

// Runs the main loop on this thread; `from_outside` runs on another thread
// once the loop's window exists (as the system's sender would), and the loop
// stops when it returns.
void with_loop(const std::function<void(HWND)>& from_outside) {
  std::thread outside;
  run_main_loop(
      [&](os_request r) {
        if (r == os_request::none && !outside.joinable())
          outside = std::thread([&] {
            from_outside(loop_window());
            post_main_loop(os_request::stop);
          });
        return r != os_request::stop;
      },
      10);
  outside.join();
}

struct report {
  bool sleeping;
  std::thread::id thread;
};

TEST(Power, OneReportPerSleepAndPerResumeOnTheLoopThread) {
  std::vector<report> seen;  // only touched on the loop thread, read after it
  auto w = watch_power([&](bool sleeping) { seen.push_back({sleeping, std::this_thread::get_id()}); });
  ASSERT_TRUE(w.ok()) << w.err().message;
  HWND window = nullptr;
  with_loop([&](HWND h) {
    window = h;
    if (!h) return;
    // SendMessage returns once the loop's thread has handled each one.
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMSUSPEND, 0);
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMEAUTOMATIC, 0);
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMESUSPEND, 0);      // the same wake-up, seen by the user
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMPOWERSTATUSCHANGE, 0);  // not ours
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMSUSPEND, 0);
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMESUSPEND, 0);
  });
  ASSERT_NE(window, nullptr) << "the main loop made no window, so nothing could receive the broadcasts";
  ASSERT_EQ(seen.size(), 4u);
  std::vector<bool> kinds;
  for (auto& r : seen) {
    kinds.push_back(r.sleeping);
    EXPECT_EQ(r.thread, std::this_thread::get_id());
  }
  EXPECT_EQ(kinds, (std::vector<bool>{true, false, true, false}));
}

TEST(Power, TwoWatchesBothHearAndAGoneWatchHearsNothing) {
  int a_count = 0, b_count = 0;
  auto a = watch_power([&](bool) { ++a_count; });
  auto b = watch_power([&](bool) { ++b_count; });
  ASSERT_TRUE(a.ok() && b.ok());
  with_loop([&](HWND h) {
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMSUSPEND, 0);
    a.value().reset();
    SendMessageW(h, WM_POWERBROADCAST, PBT_APMRESUMEAUTOMATIC, 0);
  });
  EXPECT_EQ(a_count, 1);
  EXPECT_EQ(b_count, 2);
}

TEST(Power, NoLoopNoWindow) { EXPECT_EQ(loop_window(), nullptr); }

}  // namespace
