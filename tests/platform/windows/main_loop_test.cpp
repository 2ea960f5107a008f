// The message pump on the test's main thread: requests from other threads,
// ticks, requests posted before the loop runs, and the window messages that
// mean "quit" on Windows (WM_CLOSE from taskkill, WM_QUIT, the session end).
#include <gtest/gtest.h>
#include <windows.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "platform/main_loop.hpp"
#include "tests/platform/windows/loop_window.hpp"

namespace {

using namespace std::chrono_literals;
using drover::platform::os_request;
using drover::platform::post_main_loop;
using drover::platform::run_main_loop;
using clock_type = std::chrono::steady_clock;

// Runs the loop until `stop` (or 3 s of ticks) and returns what arrived
// besides ticks; `on_first_tick` runs on the loop's thread once.
template <class F>
std::vector<os_request> run_until_stop(int tick_ms, F on_first_tick) {
  std::vector<os_request> seen;
  bool first = true;
  auto deadline = clock_type::now() + 3s;
  run_main_loop(
      [&](os_request r) {
        if (r != os_request::none) seen.push_back(r);
        if (r == os_request::none && first) {
          first = false;
          on_first_tick();
        }
        return r != os_request::stop && clock_type::now() < deadline;
      },
      tick_ms);
  return seen;
}

TEST(MainLoop, RequestPostedBeforeTheLoopIsNotLost) {
  post_main_loop(os_request::show);
  post_main_loop(os_request::stop);
  auto seen = run_until_stop(20, [] {});
  EXPECT_EQ(seen, (std::vector<os_request>{os_request::show, os_request::stop}));
}

TEST(MainLoop, RequestsFromAnotherThreadArriveInOrder) {
  std::thread poster;
  auto seen = run_until_stop(20, [&] {
    poster = std::thread([] {
      post_main_loop(os_request::show);
      post_main_loop(os_request::reload);
      post_main_loop(os_request::stop);
    });
  });
  poster.join();
  EXPECT_EQ(seen, (std::vector<os_request>{os_request::show, os_request::reload, os_request::stop}));
}

TEST(MainLoop, PostWakesTheLoopBeforeTheTick) {
  std::thread poster;
  clock_type::time_point posted, seen_at;
  run_main_loop(
      [&](os_request r) {
        if (r == os_request::none && !poster.joinable()) {
          poster = std::thread([&] {
            std::this_thread::sleep_for(50ms);
            posted = clock_type::now();
            post_main_loop(os_request::stop);
          });
        }
        if (r != os_request::stop) return true;
        seen_at = clock_type::now();
        return false;
      },
      1);
  poster.join();
  // Now a long tick: only the wake-up can end the loop in time.
  std::thread late([] {
    std::this_thread::sleep_for(100ms);
    post_main_loop(os_request::stop);
  });
  auto t0 = clock_type::now();
  run_main_loop([](os_request r) { return r != os_request::stop; }, 10000);
  late.join();
  EXPECT_LT(clock_type::now() - t0, 2s);
  EXPECT_GE(seen_at, posted);
}

TEST(MainLoop, TicksArrive) {
  int ticks = 0;
  auto t0 = clock_type::now();
  run_main_loop([&](os_request r) { return r != os_request::none || ++ticks < 5; }, 20);
  auto elapsed = clock_type::now() - t0;
  EXPECT_EQ(ticks, 5);
  EXPECT_GE(elapsed, 80ms);
  EXPECT_LT(elapsed, 2s);
}

// Wine's first start of a desktop without a display can take seconds and
// then fail: the window messages can only be tried where a window exists.
#define SKIP_WITHOUT_WINDOW(w) \
  if (!(w)) GTEST_SKIP() << "no window could be created here (no desktop); requests still arrived by the event"

TEST(MainLoop, WindowCloseAndQuitMeanStop) {
  HWND w = nullptr;
  auto seen = run_until_stop(20, [&] {
    w = loop_window();
    PostMessageW(w, WM_CLOSE, 0, 0);
  });
  SKIP_WITHOUT_WINDOW(w);
  EXPECT_EQ(seen, std::vector<os_request>{os_request::stop});
  seen = run_until_stop(20, [] { PostQuitMessage(0); });
  EXPECT_EQ(seen, std::vector<os_request>{os_request::stop});
}

TEST(MainLoop, SessionEndMeansStop) {
  std::thread other;
  // Sent from another thread, as the system does: the loop's window answers
  // WM_QUERYENDSESSION with yes and asks the loop to stop.
  LRESULT answer = 0;
  HWND w = nullptr;
  auto seen = run_until_stop(20, [&] {
    w = loop_window();
    other = std::thread([&] { answer = SendMessageW(w, WM_QUERYENDSESSION, 0, 0); });
  });
  other.join();
  SKIP_WITHOUT_WINDOW(w);
  EXPECT_EQ(answer, TRUE);
  EXPECT_EQ(seen, std::vector<os_request>{os_request::stop});
}

// The system may end the process once WM_ENDSESSION is answered: the stop
// must have run by then, inside the message, and the loop ends after it.
TEST(MainLoop, SessionEndRunsTheStopBeforeItIsAnswered) {
  std::thread system;
  std::atomic<bool> stop_ran{false}, ran_before_answer{false};
  HWND w = nullptr;
  int stops = 0;
  auto t0 = clock_type::now();
  run_main_loop(
      [&](os_request r) {
        if (r == os_request::stop) {
          ++stops;
          std::this_thread::sleep_for(200ms);  // a shutdown that takes a while
          stop_ran = true;
          return false;
        }
        if (r == os_request::none && !system.joinable()) {
          w = loop_window();
          system = std::thread([&] {
            SendMessageW(w, WM_ENDSESSION, TRUE, 0);
            ran_before_answer = stop_ran.load();
          });
        }
        return clock_type::now() - t0 < 3s;
      },
      20);
  system.join();
  SKIP_WITHOUT_WINDOW(w);
  EXPECT_TRUE(ran_before_answer);
  EXPECT_EQ(stops, 1);
  EXPECT_LT(clock_type::now() - t0, 2s);
}

TEST(MainLoop, TheWindowIsGoneAfterTheLoop) { EXPECT_EQ(loop_window(), nullptr); }

}  // namespace
