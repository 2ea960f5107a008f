// Whether a default route exists depends on the host (a laptop offline, a
// container without one): only that the call answers, fast and steadily.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "platform/routes.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

TEST(Routes, AnswersQuickly) {
  auto t0 = clock_type::now();
  bool first = drover::platform::has_default_route();
  EXPECT_LT(clock_type::now() - t0, std::chrono::seconds(1));
  std::printf("default route: %s\n", first ? "yes" : "no");
  for (int i = 0; i < 20; ++i) drover::platform::has_default_route();  // tables are freed (no growth to see here)
}

}  // namespace
