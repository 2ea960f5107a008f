#include "core/stats.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace {

using drover::stats::lifetime_totals;
namespace stats = drover::stats;

TEST(LifetimeStats, SerialiseThenParseGivesTheSameTotals) {
  lifetime_totals t{123456789012ull, 42, 7, 3600};
  auto text = stats::serialise(t);
  EXPECT_EQ(text, "{\"version\":1,\"bytes_in\":123456789012,\"bytes_out\":42,\"flows\":7,\"uptime_s\":3600}\n");
  auto back = stats::parse(text);
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(*back, t);
}

TEST(LifetimeStats, AddingARunToThePreviousTotals) {
  lifetime_totals before{1000, 200, 3, 60};
  lifetime_totals run{5, 6, 1, 2};
  EXPECT_EQ(before + run, (lifetime_totals{1005, 206, 4, 62}));
  EXPECT_EQ(lifetime_totals{} + run, run) << "a missing file starts from zero";
}

TEST(LifetimeStats, SumsSaturateInsteadOfWrapping) {
  constexpr auto max = std::numeric_limits<uint64_t>::max();
  lifetime_totals a{max - 1, 0, 0, 0};
  lifetime_totals b{10, 0, 0, 0};
  EXPECT_EQ((a + b).bytes_in, max);
}

TEST(LifetimeStats, KeysInAnyOrderAndUnknownKeysAreAccepted) {
  auto t = stats::parse(R"({"uptime_s":4,"flows":3,"bytes_out":2,"bytes_in":1,"version":1,"later":"x"})");
  ASSERT_TRUE(t) << t.err().message;
  EXPECT_EQ(*t, (lifetime_totals{1, 2, 3, 4}));
}

// What a disk, an editor or an older/newer build may leave behind.
TEST(LifetimeStats, DamagedFilesAreRefusedWithAReason) {
  struct bad_case {
    const char* text;
    const char* code;
  };
  const bad_case cases[] = {
      {"", "syntax"},
      {"{\"version\":1,\"bytes_in\":1", "syntax"},  // cut short (a torn write)
      {"[1,2,3]", "syntax"},
      {"\xff\xfe not json", "syntax"},
      {R"({"bytes_in":1,"bytes_out":2,"flows":3,"uptime_s":4})", "version"},
      {R"({"version":2,"bytes_in":1,"bytes_out":2,"flows":3,"uptime_s":4})", "version"},
      {R"({"version":"1","bytes_in":1,"bytes_out":2,"flows":3,"uptime_s":4})", "version"},
      {R"({"version":1,"bytes_out":2,"flows":3,"uptime_s":4})", "field"},
      {R"({"version":1,"bytes_in":-1,"bytes_out":2,"flows":3,"uptime_s":4})", "field"},
      {R"({"version":1,"bytes_in":1.5,"bytes_out":2,"flows":3,"uptime_s":4})", "field"},
      {R"({"version":1,"bytes_in":"1","bytes_out":2,"flows":3,"uptime_s":4})", "field"},
      {R"({"version":1,"bytes_in":1,"bytes_out":2,"flows":null,"uptime_s":4})", "field"},
  };
  for (auto& c : cases) {
    auto r = stats::parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.err().code, c.code) << c.text << ": " << r.err().message;
    EXPECT_FALSE(r.err().message.empty());
  }
}

TEST(LifetimeStats, MissingFieldIsNamed) {
  auto r = stats::parse(R"({"version":1,"bytes_in":1,"bytes_out":2,"uptime_s":4})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("flows"), std::string::npos) << r.err().message;
}

}  // namespace
