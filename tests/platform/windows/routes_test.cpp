// Whether a default route exists depends on the host. Under Wine the host's
// own table is readable (Z:\proc\net\route), so the answer is checked
// against it; elsewhere only that the call answers, fast and steadily.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "platform/routes.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The Linux host's IPv4 default route as the kernel lists it (Wine's
// GetIpForwardTable2 shows IPv4 routes only); nothing when not under Wine.
std::optional<bool> host_has_default_route() {
  std::ifstream in("Z:\\proc\\net\\route");
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, dest;
    if (f >> iface >> dest && dest == "00000000") return true;
  }
  return false;
}

TEST(Routes, AnswersQuickly) {
  auto t0 = clock_type::now();
  bool first = drover::platform::has_default_route();
  EXPECT_LT(clock_type::now() - t0, std::chrono::seconds(1));
  std::printf("default route: %s\n", first ? "yes" : "no");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(drover::platform::has_default_route(), first);
}

TEST(Routes, MatchesTheHostsTable) {
  auto host = host_has_default_route();
  if (!host) GTEST_SKIP() << "the host's route table is not readable here (not under Wine)";
  EXPECT_EQ(drover::platform::has_default_route(), *host);
}

}  // namespace
