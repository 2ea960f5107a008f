// The tray's view as a function of what the engine says: colours per state,
// the status row's text and width, which actions the menu offers.
#include "core/tray_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace drover::tray {
namespace {

engine_view engine(const std::string& state, const std::string& detail = "") {
  engine_view e;
  e.reachable = true;
  e.state = state;
  e.detail = detail;
  return e;
}

std::vector<item_id> ids(const view& v) {
  std::vector<item_id> out;
  for (auto& i : v.menu) out.push_back(i.id);
  return out;
}

const item& find(const view& v, item_id id) {
  auto it = std::find_if(v.menu.begin(), v.menu.end(), [id](const item& i) { return i.id == id; });
  EXPECT_NE(it, v.menu.end());
  return *it;
}

std::size_t code_points(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

TEST(tray_model, colour_per_state) {
  struct row {
    engine_view e;
    colour want;
  };
  engine_view gone;
  engine_view no_udp = engine("Active");
  no_udp.udp_available = false;
  const row rows[] = {
      {gone, colour::grey},
      {engine("Idle"), colour::grey},
      {engine("Starting"), colour::yellow},
      {engine("Active"), colour::green},
      {engine("Active", "no traffic"), colour::yellow},
      {no_udp, colour::yellow},
      {engine("Reconnecting"), colour::yellow},
      {engine("Failed"), colour::red},
  };
  for (auto& r : rows) EXPECT_EQ(colour_name(colour_of(r.e)), std::string(colour_name(r.want))) << r.e.state;
}

TEST(tray_model, colours_are_distinct) {
  const colour all[] = {colour::grey, colour::green, colour::yellow, colour::red};
  for (auto a : all) {
    for (auto b : all) {
      if (a == b) continue;
      EXPECT_NE(colour_rgb(a), colour_rgb(b));
    }
  }
}

TEST(tray_model, durations_and_rates) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(5 * 60 + 3), "5m 03s");
  EXPECT_EQ(format_duration(2 * 3600 + 14 * 60 + 59), "2h 14m");
  EXPECT_EQ(format_duration(30 * 3600), "30h 00m");
  EXPECT_EQ(format_rate(0), "0 B/s");
  EXPECT_EQ(format_rate(-5), "0 B/s");
  EXPECT_EQ(format_rate(512), "512 B/s");
  EXPECT_EQ(format_rate(142 * 1024), "142 KB/s");
  EXPECT_EQ(format_rate(1.2 * 1024 * 1024), "1.2 MB/s");
}

TEST(tray_model, rates_never_go_negative_after_a_restart) {
  engine_view a = engine("Active"), b = engine("Active");
  a.bytes_out = 1000, a.bytes_in = 4000;
  b.bytes_out = 3000, b.bytes_in = 100;  // in: the engine restarted, counters back to zero
  auto r = rate_between(a, b, 2.0);
  EXPECT_DOUBLE_EQ(r.up, 1000.0);
  EXPECT_DOUBLE_EQ(r.down, 0.0);
  EXPECT_DOUBLE_EQ(rate_between(a, b, 0).up, 0.0);
}

TEST(tray_model, status_row_reads_as_the_seed_says_and_keeps_its_width) {
  auto e = engine("Active");
  e.uptime_s = 2 * 3600 + 14 * 60;
  auto row = status_row(e, {142 * 1024, 1.2 * 1024 * 1024});
  EXPECT_EQ(row.rfind("Active · 2h 14m · ↑ 142 KB/s ↓ 1.2 MB/s", 0), 0u) << row;
  auto idle = status_row(engine("Idle"), {});
  EXPECT_EQ(idle.rfind("Idle", 0), 0u);
  // The first label a host sees fixes the menu's width: every row is as wide.
  EXPECT_EQ(code_points(idle), code_points(row));
  EXPECT_EQ(code_points(status_row(engine_view{}, {})), code_points(row));
}

TEST(tray_model, actions_follow_the_state) {
  options o;
  using v = std::vector<item_id>;
  auto tail = v{item_id::run_check, item_id::open_config, item_id::open_log, item_id::save_dump,
                item_id::autostart, item_id::about,       item_id::quit};
  auto with = [&](v head) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  EXPECT_EQ(ids(make_view(engine("Idle"), {}, o)), with({item_id::status_row, item_id::start}));
  EXPECT_EQ(ids(make_view(engine("Active"), {}, o)), with({item_id::status_row, item_id::stop}));
  EXPECT_EQ(ids(make_view(engine("Reconnecting"), {}, o)), with({item_id::status_row, item_id::stop}));
  EXPECT_EQ(ids(make_view(engine("Failed"), {}, o)), with({item_id::status_row, item_id::retry, item_id::stop}));
  // No engine answers: nothing to start or stop from here.
  EXPECT_EQ(ids(make_view(engine_view{}, {}, o)), with({item_id::status_row}));
  EXPECT_FALSE(find(make_view(engine_view{}, {}, o), item_id::run_check).enabled);
  EXPECT_FALSE(find(make_view(engine("Idle"), {}, o), item_id::status_row).enabled);
}

TEST(tray_model, separators_split_the_groups) {
  auto v = make_view(engine("Failed"), {}, options{});
  EXPECT_FALSE(v.menu[0].separator_before);
  EXPECT_TRUE(v.menu[1].separator_before);   // Retry
  EXPECT_FALSE(v.menu[2].separator_before);  // Stop, in the same group
  EXPECT_TRUE(find(v, item_id::autostart).separator_before);
  EXPECT_TRUE(find(v, item_id::quit).separator_before);
}

TEST(tray_model, wording_per_os_and_autostart_checkbox) {
  options win;
  win.autostart_on = true;
  auto w = make_view(engine("Active"), {}, win);
  EXPECT_EQ(find(w, item_id::autostart).label, "Start with Windows");
  EXPECT_TRUE(find(w, item_id::autostart).checkable);
  EXPECT_TRUE(find(w, item_id::autostart).checked);
  EXPECT_EQ(find(w, item_id::quit).label, "Quit (stops Drover)");
  options lin;
  lin.os = flavour::linux_session;
  lin.autostart_supported = false;
  auto l = make_view(engine("Active"), {}, lin);
  EXPECT_EQ(find(l, item_id::autostart).label, "Start at login");
  EXPECT_FALSE(find(l, item_id::autostart).checked);
  EXPECT_FALSE(find(l, item_id::autostart).enabled);
  EXPECT_NE(find(l, item_id::quit).label.find("service keeps running"), std::string::npos);
}

TEST(tray_model, tooltip_says_state_and_why) {
  EXPECT_EQ(tooltip(engine("Active")), "Drover: Active");
  auto f = engine("Failed");
  f.last_error = "proxy authentication rejected";
  EXPECT_EQ(tooltip(f), "Drover: Failed\nproxy authentication rejected");
  auto no_udp = engine("Active");
  no_udp.udp_available = false;
  EXPECT_NE(tooltip(no_udp).find("voice will not work"), std::string::npos);
  engine_view gone;
  gone.unreachable_reason = "the Drover service is not running";
  EXPECT_EQ(tooltip(gone), "Drover: not running\nthe Drover service is not running");
}

TEST(tray_model, views_compare_by_content) {
  auto a = make_view(engine("Active"), {}, options{});
  auto b = a;
  EXPECT_EQ(a, b);
  b.menu[0].label += "x";
  EXPECT_NE(a, b);
  b = a;
  b.icon = colour::red;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace drover::tray
