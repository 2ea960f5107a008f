#include "core/log_gate.hpp"

#include <gtest/gtest.h>

namespace {

using drover::log_gate;
using std::chrono::seconds;

TEST(LogGate, LetsABurstThroughThenCountsTheRest) {
  log_gate g(3, seconds(10));
  auto t = log_gate::clock::time_point{} + seconds(100);
  uint64_t held = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(g.admit(t, held));
    EXPECT_EQ(held, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(g.admit(t + seconds(1), held));
  // Next window: let through again, with the count of the silent ones.
  EXPECT_TRUE(g.admit(t + seconds(10), held));
  EXPECT_EQ(held, 5u);
  EXPECT_TRUE(g.admit(t + seconds(11), held));
  EXPECT_EQ(held, 0u);
}

TEST(LogGate, AQuietSourceIsNeverHeldBack) {
  log_gate g(1, seconds(10));
  auto t = log_gate::clock::time_point{};
  uint64_t held = 0;
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(g.admit(t + seconds(11 * i), held));
    EXPECT_EQ(held, 0u);
  }
}

}  // namespace
