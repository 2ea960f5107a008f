#include "core/transition_log.hpp"

#include <gtest/gtest.h>

namespace {

using drover::iso8601_utc;
using drover::transition_log;
using drover::transition_record;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point at(int64_t ms_since_epoch) {
  return system_clock::time_point{} + milliseconds(ms_since_epoch);
}

TEST(Iso8601Utc, KnownInstants) {
  struct known {
    int64_t ms;
    const char* text;
  };
  const known table[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1, "1970-01-01T00:00:00.001Z"},
      {951782400000, "2000-02-29T00:00:00.000Z"},  // a leap day of a year divisible by 400
      {951868799999, "2000-02-29T23:59:59.999Z"},
      {1709251199000, "2024-02-29T23:59:59.000Z"},  // a leap day
      {1709251200000, "2024-03-01T00:00:00.000Z"},
      {1735689599123, "2024-12-31T23:59:59.123Z"},  // the last second of a leap year
      {4102444800000, "2100-01-01T00:00:00.000Z"},  // 2100 is no leap year
      {4107542400000, "2100-03-01T00:00:00.000Z"},
      {-1, "1969-12-31T23:59:59.999Z"},  // before the epoch: floor, not truncate
  };
  for (auto& k : table) EXPECT_EQ(iso8601_utc(at(k.ms)), k.text) << k.ms;
}

TEST(Iso8601Utc, NowLooksLikeATimestamp) {
  auto s = iso8601_utc(system_clock::now());
  ASSERT_EQ(s.size(), 24u) << s;
  EXPECT_EQ(s[4], '-');
  EXPECT_EQ(s[10], 'T');
  EXPECT_EQ(s[19], '.');
  EXPECT_EQ(s.back(), 'Z');
  EXPECT_GE(s.substr(0, 4), "2024");
}

transition_record record(int i) {
  return {iso8601_utc(at(i * 1000)), "Active", "Reconnecting", "proxy_unreachable", "lost " + std::to_string(i), ""};
}

TEST(TransitionLog, KeepsTheLastHundredOldestFirst) {
  transition_log log;
  for (int i = 0; i < 250; ++i) log.add(record(i));
  auto items = log.items();
  ASSERT_EQ(items.size(), 100u);
  EXPECT_EQ(items.front().cause, "lost 150");
  EXPECT_EQ(items.back().cause, "lost 249");
  for (size_t i = 1; i < items.size(); ++i) EXPECT_LT(items[i - 1].time, items[i].time);
}

TEST(TransitionLog, BelowCapacityNothingIsDropped) {
  transition_log log(5);
  for (int i = 0; i < 3; ++i) log.add(record(i));
  auto items = log.items();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].cause, "lost 0");
  EXPECT_EQ(items[2].cause, "lost 2");
}

TEST(TransitionLog, ZeroCapacityKeepsNothing) {
  transition_log log(0);
  log.add(record(1));
  EXPECT_EQ(log.size(), 0u);
}

}  // namespace
