// The tray actor in virtual time with a fake icon and a scripted engine:
// what it shows for each state, which request each menu item sends, and what
// the user is told about each answer.
#include "actors/tray.hpp"

#include <gtest/gtest.h>

#include <caf/scheduler/test_coordinator.hpp>
#include "tests/actors/test_config.hpp"

#include <map>
#include <mutex>

#include "platform/tray.hpp"

using namespace drover;

namespace {

using drover::testing::test_config;

struct fake_icon final : platform::tray_icon {
  std::vector<tray::view> views;
  std::vector<std::pair<std::string, std::string>> notes;
  void show(const tray::view& v) override { views.push_back(v); }
  void notify(const std::string& title, const std::string& text) override { notes.emplace_back(title, text); }
};

const char* active = R"({"state":"Active","detail":"","uptime_s":75,"bytes_in":0,"bytes_out":0,)"
                     R"("config_path":"/etc/drover/config.toml","log_path":"/var/log/drover/drover.log",)"
                     R"("lifetime":{"bytes_in":3145728,"bytes_out":1048576,"flows":12,"uptime_s":3600}})";

struct tray_test : ::testing::Test {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<fake_icon> icon = std::make_shared<fake_icon>();
  std::map<std::string, std::string> answers{{"status", active}};  // request -> answer line
  std::vector<std::string> requests;
  std::vector<std::string> opened;
  bool autostart = false, quit = false, toast_saved = false;
  tray_actor tray;

  tray_env env() {
    tray_env e;
    e.icon = icon;
    e.request = [this](const std::string& r, std::function<void(std::string)> done) {
      requests.push_back(r);
      auto it = answers.find(r);
      done(it == answers.end() ? R"({"error":"unknown request"})" : it->second);
    };
    e.autostart_on = [this] { return result<bool>(autostart); };
    e.set_autostart = [this](bool on) {
      autostart = on;
      return ok();
    };
    e.open = [this](const std::string& p) {
      opened.push_back(p);
      return ok();
    };
    e.quit = [this] { quit = true; };
    e.toast_shown = [this] { toast_saved = true; };
    e.version = "0.1.0";
    return e;
  }
  void start(tray_env e) {
    tray = spawn_tray(sys, std::move(e));
    sched.run();
  }
  void start() { start(env()); }
  void TearDown() override {
    caf::anon_send_exit(tray, caf::exit_reason::user_shutdown);
    sched.run();
  }
  void click(tray::item_id id) {
    caf::anon_send(tray, click_atom_v, static_cast<int32_t>(id));
    sched.run();
  }
  void push(const std::string& line) {
    caf::anon_send(tray, status_atom_v, line);
    sched.run();
  }
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }
  const tray::view& last() { return icon->views.back(); }
  bool offers(tray::item_id id) {
    for (auto& i : last().menu)
      if (i.id == id) return true;
    return false;
  }
  std::string last_note() {
    return icon->notes.empty() ? "" : icon->notes.back().first + ": " + icon->notes.back().second;
  }
};

TEST_F(tray_test, shows_grey_at_once_then_the_engines_state) {
  answers["status"] = R"({"error":"not running"})";
  start();
  ASSERT_GE(icon->views.size(), 1u);
  EXPECT_EQ(icon->views.front().icon, tray::colour::grey);
  EXPECT_NE(last().tooltip.find("not running"), std::string::npos);
  answers["status"] = active;
  advance(std::chrono::seconds(1));
  EXPECT_EQ(last().icon, tray::colour::green);
  EXPECT_TRUE(offers(tray::item_id::stop));
  EXPECT_FALSE(offers(tray::item_id::start));
}

TEST_F(tray_test, a_pushed_change_shows_without_waiting_for_the_poll) {
  start();
  push(R"({"state":"Reconnecting","last_error":"proxy unreachable"})");
  EXPECT_EQ(last().icon, tray::colour::yellow);
  EXPECT_NE(last().tooltip.find("proxy unreachable"), std::string::npos);
  push(R"({"state":"Failed","last_error":"authentication rejected"})");
  EXPECT_EQ(last().icon, tray::colour::red);
  EXPECT_TRUE(offers(tray::item_id::retry));
  push("not json at all");
  EXPECT_EQ(last().icon, tray::colour::grey);
}

TEST_F(tray_test, an_unchanged_view_is_not_shown_again) {
  start();
  auto n = icon->views.size();
  advance(std::chrono::seconds(1));
  advance(std::chrono::seconds(1));
  EXPECT_EQ(icon->views.size(), n);
}

TEST_F(tray_test, the_status_row_shows_the_rates_between_polls) {
  start();
  answers["status"] = R"({"state":"Active","uptime_s":76,"bytes_in":2097152,"bytes_out":1024})";
  advance(std::chrono::seconds(1));
  auto row = last().menu.front().label;
  EXPECT_EQ(row.rfind("Active · 1m 16s · ↑ 1 KB/s ↓ 2.0 MB/s", 0), 0u) << row;
  EXPECT_FALSE(last().menu.front().enabled);
}

TEST_F(tray_test, each_action_sends_its_request) {
  start();
  requests.clear();
  click(tray::item_id::stop);
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0], "stop");
  EXPECT_EQ(requests.back(), "status");  // the new state at once
  requests.clear();
  click(tray::item_id::retry);
  click(tray::item_id::start);
  EXPECT_EQ(requests, (std::vector<std::string>{"retry", "status", "start", "status"}));
}

TEST_F(tray_test, a_refused_action_is_told) {
  answers["start"] = R"x({"error":"the engine is already started (Active)"})x";
  start();
  click(tray::item_id::start);
  EXPECT_EQ(last_note(), "Drover: start failed: the engine is already started (Active)");
}

TEST_F(tray_test, the_checks_result_is_a_notification) {
  answers["check"] = R"({"ok":true,"tcp_ok":true,"udp_ok":true})";
  start();
  click(tray::item_id::run_check);
  EXPECT_EQ(last_note(), "Proxy check passed: chat and voice will work");
  answers["check"] = R"({"ok":false,"tcp_ok":true,"udp_ok":false,"udp_failure":"UDP ASSOCIATE refused"})";
  click(tray::item_id::run_check);
  EXPECT_EQ(last_note(), "Proxy check: no UDP: chat will work, voice will not: UDP ASSOCIATE refused");
  answers["check"] = R"({"ok":false,"tcp_ok":false,"failure":"connection refused"})";
  click(tray::item_id::run_check);
  EXPECT_EQ(last_note(), "Proxy check failed: connection refused");
}

TEST_F(tray_test, save_diagnostics_shows_where_the_engine_wrote_it) {
  answers["save-dump"] = R"({"ok":true,"path":"/var/log/drover/drover-dump-20261201-120000.json"})";
  start();
  click(tray::item_id::save_dump);
  EXPECT_EQ(last_note(), "Diagnostics saved: /var/log/drover/drover-dump-20261201-120000.json");
  answers["save-dump"] = R"({"error":"cannot write /var/log/drover: No space left on device"})";
  click(tray::item_id::save_dump);
  EXPECT_EQ(last_note(), "Diagnostics not saved: cannot write /var/log/drover: No space left on device");
}

TEST_F(tray_test, open_config_and_log_use_the_engines_paths) {
  start();
  click(tray::item_id::open_config);
  click(tray::item_id::open_log);
  EXPECT_EQ(opened, (std::vector<std::string>{"/etc/drover/config.toml", "/var/log/drover/drover.log"}));
}

TEST_F(tray_test, open_without_a_known_path_says_so) {
  answers["status"] = R"({"state":"Idle"})";
  start();
  click(tray::item_id::open_log);
  EXPECT_TRUE(opened.empty());
  EXPECT_NE(last_note().find("no log file to open"), std::string::npos);
}

TEST_F(tray_test, start_at_login_is_a_checkbox) {
  start();
  auto checked = [&] {
    for (auto& i : last().menu)
      if (i.id == tray::item_id::autostart) return i.checked;
    return false;
  };
  EXPECT_FALSE(checked());
  click(tray::item_id::autostart);
  EXPECT_TRUE(autostart);
  EXPECT_TRUE(checked());
  click(tray::item_id::autostart);
  EXPECT_FALSE(autostart);
  EXPECT_FALSE(checked());
}

TEST_F(tray_test, about_shows_version_and_lifetime_totals) {
  start();
  click(tray::item_id::about);
  EXPECT_EQ(last_note(), "About Drover: Drover 0.1.0\nLifetime: 1 MB up, 3 MB down, 12 flows, 1h 00m running");
}

TEST_F(tray_test, quit_and_the_first_start_notification) {
  auto e = env();
  e.show_first_toast = true;
  start(std::move(e));
  ASSERT_FALSE(icon->notes.empty());
  EXPECT_EQ(icon->notes.front().first, "Drover runs in the tray");
  EXPECT_TRUE(toast_saved);
  click(tray::item_id::quit);
  EXPECT_TRUE(quit);
}

TEST(tray_parse, status_lines) {
  auto e = parse_engine_view(R"({"state":"Active","detail":"no traffic","udp_available":false,"bytes_in":5})");
  EXPECT_TRUE(e.reachable);
  EXPECT_EQ(e.detail, "no traffic");
  EXPECT_FALSE(e.udp_available);
  EXPECT_EQ(e.bytes_in, 5u);
  EXPECT_FALSE(parse_engine_view(R"({"error":"permission denied"})").reachable);
  EXPECT_EQ(parse_engine_view(R"({"error":"permission denied"})").unreachable_reason, "permission denied");
  EXPECT_FALSE(parse_engine_view("[1,2]").reachable);
  EXPECT_FALSE(parse_engine_view(R"({"state":7})").reachable);
  EXPECT_FALSE(parse_engine_view("").reachable);
}

}  // namespace
