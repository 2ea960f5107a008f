#include "core/recovery.hpp"

#include <gtest/gtest.h>

using namespace drover::recovery;
using namespace std::chrono_literals;

TEST(recovery, e3_table) {
  struct row {
    failure_class c;
    action a;
  };
  for (auto r :
       {row{failure_class::driver_lost, action::retry_once}, row{failure_class::driver_gone, action::fail_stop},
        row{failure_class::proxy_unreachable, action::exp_backoff}, row{failure_class::exception, action::fail_stop},
        row{failure_class::sleep, action::pause}, row{failure_class::resume, action::resume},
        row{failure_class::fatal, action::fail_stop}})
    EXPECT_EQ(classify(r.c), r.a) << to_string(r.c);
}

TEST(recovery, backoff_schedule) {
  backoff b;
  const long want[] = {1, 2, 4, 8, 16, 30, 30, 30};
  for (unsigned i = 0; i < 8; ++i) EXPECT_EQ(b.delay(i + 1).count(), want[i]) << "attempt " << i + 1;
  EXPECT_EQ(b.delay(1000).count(), 30);
  EXPECT_FALSE(b.exhausted(299s));
  EXPECT_TRUE(b.exhausted(300s));
}

TEST(recovery, driver_loss_window) {
  driver_loss_policy p;
  using tp = std::chrono::steady_clock::time_point;
  tp t0{};
  EXPECT_EQ(p.on_loss<tp>(std::nullopt, t0 + 100s), action::retry_once);
  EXPECT_EQ(p.on_loss<tp>(t0 + 100s, t0 + 129s), action::fail_stop);
  EXPECT_EQ(p.on_loss<tp>(t0 + 100s, t0 + 130s), action::retry_once);
}
