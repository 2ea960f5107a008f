#include "core/config.hpp"

#include <gtest/gtest.h>

using namespace drover::config;

TEST(config, defaults_per_os) {
  auto l = defaults(target_os::linux_os);
  EXPECT_EQ(l.targets.processes.front(), "Discord");
  auto w = defaults(target_os::windows);
  EXPECT_EQ(w.targets.processes.front(), "Discord.exe");
  EXPECT_EQ(w.engine.reconnect_total_cap.count(), 300000);
}

TEST(config, full_file) {
  const char* text = R"(
version = 1
[proxy]
host = "proxy.example.org"
port = 12334
auth = true
login = "alice"
password = "hunter2"
tcp_connect_timeout = "3s"
[targets]
processes = ["curl", "Discord"]
include_vesktop = true
[skip]
extra_skip_cidrs = ["10.0.0.0/8", "fd00::/8"]
[engine]
reconnect_backoff_initial = "500ms"
)";
  auto r = parse(text, target_os::linux_os);
  ASSERT_FALSE(r.error) << r.error->to_string("t");
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.cfg.proxy.host, "proxy.example.org");
  EXPECT_EQ(r.cfg.proxy.port, 12334);
  EXPECT_EQ(r.cfg.proxy.tcp_connect_timeout.count(), 3000);
  EXPECT_EQ(r.cfg.skip.extra_skip_cidrs.size(), 2u);
  EXPECT_EQ(r.cfg.engine.reconnect_backoff_initial.count(), 500);
  EXPECT_TRUE(r.cfg.is_target("curl"));
  EXPECT_FALSE(r.cfg.is_target("Curl")) << "Linux matching is case-sensitive";
  EXPECT_TRUE(r.cfg.is_target("vesktop"));
  EXPECT_EQ(r.cfg.describe().find("hunter2"), std::string::npos);
  EXPECT_NE(r.cfg.describe().find("***"), std::string::npos);
  auto again = parse(to_toml(r.cfg), target_os::linux_os);
  ASSERT_FALSE(again.error);
  EXPECT_EQ(again.cfg.proxy.password, "hunter2");
  EXPECT_EQ(again.cfg.skip.extra_skip_cidrs[1].to_string(), r.cfg.skip.extra_skip_cidrs[1].to_string());
}

TEST(config, windows_matching_is_case_insensitive) {
  auto r = parse("[targets]\nprocesses = [\"Discord.exe\"]\n", target_os::windows);
  EXPECT_TRUE(r.cfg.is_target("discord.EXE"));
}

TEST(config, errors_name_key_line_column) {
  struct row {
    const char* text;
    const char* key;
    int line;
    const char* words;
  };
  const row rows[] = {
      {"[proxy]\nport = 70000\n", "proxy.port", 2, "1..65535"},
      {"[proxy]\nport = \"x\"\n", "proxy.port", 2, "integer"},
      {"[proxy]\nhost = \"\"\n", "proxy.host", 2, "empty"},
      {"[proxy]\nauth = true\n", "proxy.login", 1, "required"},
      {"[skip]\nextra_skip_cidrs = [\"10.0.0.0/8\", \"nope\"]\n", "skip.extra_skip_cidrs", 2, "nope"},
      {"[engine]\nheartbeat_interval = \"5 parsecs\"\n", "engine.heartbeat_interval", 2, "duration"},
      {"version = 9\n", "version", 1, "unsupported"},
      {"[ui]\nlog_level = \"loud\"\n", "ui.log_level", 2, "one of"},
      {"proxy = 3\n", "proxy", 1, "table"},
      {"[proxy\nport = 1\n", "", 1, ""},
      {"[proxy]\nport = = 1\n", "", 2, ""},
  };
  for (auto& r : rows) {
    auto res = parse(r.text, target_os::linux_os);
    ASSERT_TRUE(res.error) << r.text;
    EXPECT_EQ(res.error->key, r.key) << r.text;
    EXPECT_EQ(res.error->line, r.line) << r.text;
    EXPECT_GT(res.error->column, 0) << r.text;
    EXPECT_NE(res.error->message.find(r.words), std::string::npos) << res.error->message;
    // M-4: a broken file yields the defaults.
    EXPECT_EQ(res.cfg.proxy.port, 1080);
  }
}

TEST(config, unknown_keys_warned_password_never_in_messages) {
  auto r = parse("[proxy]\npasword = \"topsecret\"\nport = 1081\n[colour]\nx = 1\n", target_os::linux_os);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].key, "proxy.pasword");
  EXPECT_EQ(r.warnings[0].line, 2);
  for (auto& w : r.warnings) EXPECT_EQ(w.to_string("f").find("topsecret"), std::string::npos);
  auto bad = parse("[proxy]\npassword = \"topsecret\"\nport = 0\n", target_os::linux_os);
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->to_string("f").find("topsecret"), std::string::npos);
}

TEST(config, durations) {
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("2m")->count(), 120000);
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("-5s"));
}
