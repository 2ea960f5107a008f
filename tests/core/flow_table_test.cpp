#include "core/flow_table.hpp"

#include <gtest/gtest.h>

using namespace drover;
using namespace std::chrono_literals;

TEST(flow_table, put_find_touch_erase) {
  flow_table t(4);
  auto now = flow_clock::time_point{} + 1h;
  flow_entry e{endpoint::v4({1, 1, 1, 1}, 443), 42, 0, 0, now};
  ASSERT_TRUE(t.put({flow_proto::tcp, 40000}, e).ok());
  ASSERT_NE(t.find({flow_proto::tcp, 40000}), nullptr);
  EXPECT_EQ(t.find({flow_proto::udp, 40000}), nullptr) << "protocol is part of the key";
  EXPECT_TRUE(t.touch({flow_proto::tcp, 40000}, now, 10, 20));
  EXPECT_EQ(t.find({flow_proto::tcp, 40000})->bytes_in, 10u);
  EXPECT_EQ(t.find({flow_proto::tcp, 40000})->bytes_out, 20u);
  EXPECT_FALSE(t.touch({flow_proto::tcp, 1}, now));
  EXPECT_TRUE(t.erase({flow_proto::tcp, 40000}));
  EXPECT_EQ(t.size(), 0u);
}

TEST(flow_table, bounded) {
  flow_table t(2);
  flow_entry e;
  ASSERT_TRUE(t.put({flow_proto::tcp, 1}, e).ok());
  ASSERT_TRUE(t.put({flow_proto::udp, 1}, e).ok());
  ASSERT_TRUE(t.put({flow_proto::udp, 1}, e).ok()) << "replacing is not growing";
  auto r = t.put({flow_proto::tcp, 2}, e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, "flow_table_full");
  EXPECT_EQ(t.count(flow_proto::udp), 1u);
}

TEST(flow_table, idle_expiry_tcp_30min_udp_5min) {
  flow_table t;
  auto t0 = flow_clock::time_point{} + 24h;
  flow_entry e;
  e.last_seen = t0;
  t.put({flow_proto::tcp, 1}, e);
  t.put({flow_proto::udp, 2}, e);
  t.put({flow_proto::udp, 3}, e);
  t.touch({flow_proto::udp, 3}, t0 + 4min);
  EXPECT_TRUE(t.sweep(t0 + 5min - 1s).empty());
  auto gone = t.sweep(t0 + 5min);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].client_port, 2);
  EXPECT_TRUE(t.sweep(t0 + 29min).size() == 1u) << "udp 3 idle since +4 min";
  EXPECT_TRUE(t.sweep(t0 + 30min - 1s).empty());
  EXPECT_EQ(t.sweep(t0 + 30min).size(), 1u);
  EXPECT_EQ(t.size(), 0u);
}
