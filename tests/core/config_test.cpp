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
udp_check = "[fd77::3]:5353"
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
  EXPECT_EQ(r.cfg.proxy.udp_check, drover::endpoint::v6({0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}, 5353));
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
  EXPECT_EQ(again.cfg.proxy.udp_check, r.cfg.proxy.udp_check);
}

TEST(config, udp_check_default_and_forms) {
  // Default: a public resolver, so a real user's check does a real round trip.
  EXPECT_EQ(defaults(target_os::linux_os).proxy.udp_check.to_string(), "1.1.1.1:53");
  struct row {
    const char* text;
    const char* want;  // endpoint::to_string, or nullptr: refused
  };
  const row rows[] = {
      {"198.18.0.3:53", "198.18.0.3:53"},
      {"[::1]:53", "[0:0:0:0:0:0:0:1]:53"},
      {"dns.example.org:5353", "dns.example.org:5353"},
      {"resolver:65535", "resolver:65535"},
      {"1.1.1.1", nullptr},
      {"1.1.1.1:", nullptr},
      {":53", nullptr},
      {"1.1.1.1:0", nullptr},
      {"1.1.1.1:65536", nullptr},
      {"1.1.1.1:5x", nullptr},
      {"1.1.1.1:-53", nullptr},
      {"::1:53", nullptr},  // IPv6 needs brackets
      {"[::1:53", nullptr},
      {"[nope]:53", nullptr},
      {"300.1.1.1:53", nullptr},
      {"1.2.3:53", nullptr},
      {"bad host:53", nullptr},
      {"", nullptr},
  };
  for (auto& r : rows) {
    auto e = parse_host_port(r.text);
    if (!r.want) {
      EXPECT_FALSE(e) << r.text << " -> " << e->to_string();
      continue;
    }
    ASSERT_TRUE(e) << r.text;
    EXPECT_EQ(e->to_string(), r.want);
    // What to_toml writes reads back as the same endpoint.
    auto again = parse_host_port(e->to_string());
    ASSERT_TRUE(again) << e->to_string();
    EXPECT_EQ(*again, *e);
  }
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
      {"[proxy]\nport = 1080\nudp_check = \"1.1.1.1\"\n", "proxy.udp_check", 3, "host:port"},
      {"[proxy]\nudp_check = \"fd77::3:53\"\n", "proxy.udp_check", 2, "host:port"},
      {"[proxy]\nudp_check = 53\n", "proxy.udp_check", 2, "string"},
      {"[proxy]\nauth = true\n", "proxy.login", 1, "required"},
      {"[skip]\nextra_skip_cidrs = [\"10.0.0.0/8\", \"nope\"]\n", "skip.extra_skip_cidrs", 2, "nope"},
      {"[engine]\nheartbeat_interval = \"5 parsecs\"\n", "engine.heartbeat_interval", 2, "duration"},
      {"version = 9\n", "version", 1, "unsupported"},
      {"[ui]\nlog_level = \"loud\"\n", "ui.log_level", 2, "one of"},
      {"proxy = 3\n", "proxy", 1, "table"},
      {"[proxy\nport = 1\n", "", 1, ""},
      {"[proxy]\nport = = 1\n", "", 2, ""},
      // Found by fuzz_config: toml++ 3.3 asserted on a control character in a key.
      {"[proxy]\nhost = \"h\"\nlogin\x01 = 1\n", "", 3, "control character"},
      {"[\nx = 1\n", "", 1, ""},  // fuzz_config: toml++ asserted on an empty table header
      // fuzz_config: a Cyrillic letter outside quotes hit UB inside toml++.
      {"[proxy]\nhost = \xd0\xb3\n", "", 2, "U+0433"},
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

TEST(config, non_ascii_text_is_safe) {
  // "# прокси" after a BOM, a Cyrillic login and a multi-line password.
  auto r = parse(
      "\xEF\xBB\xBF# \xD0\xBF\xD1\x80\xD0\xBE\n[proxy]\nlogin = \"\xD0\xB3\xC3\xA9\"\npassword = "
      "\"\"\"\xD0\xB3\n\xD0\xB3\"\"\"\n",
      target_os::linux_os);
  ASSERT_FALSE(r.error) << r.error->to_string("t");
  EXPECT_EQ(r.cfg.proxy.login, "\xD0\xB3\xC3\xA9");
  EXPECT_EQ(r.cfg.proxy.password, "\xD0\xB3\n\xD0\xB3");
  // Inputs found by fuzz_config that reached undefined behaviour in toml++:
  // each is refused with a position, never parsed.
  const char* crashes[] = {
      "\xEF\xBB\xBCSvi",                                  // U+FEFC outside quotes
      "port = 10\"5\xEF\xBB\xB7\"\n",                     // a quote inside a bare token
      "\"\"\"ekk\\\\\n/\xEF\xBB\xBF\\\n\xEF\xBB\xB6= o",  // line-ending backslash
      "v = \"\"\"\"\n\\\xEF\xB4\xBF\"\"\"\n",             // escaped U+FD3F
      "v= 1='\xEF\xBB\xBB O",                             // literal after a token
      "[proxy]\nhost = \xD0\xB3\n",                       // Cyrillic value without quotes
  };
  for (const char* c : crashes) {
    auto bad = parse(c, target_os::linux_os);
    ASSERT_TRUE(bad.error) << c;
    EXPECT_GT(bad.error->line, 0);
    EXPECT_GT(bad.error->column, 0);
  }
  auto lit = parse("[proxy]\nlogin = '\xD0\xB3'\n", target_os::linux_os);
  ASSERT_TRUE(lit.error);
  EXPECT_NE(lit.error->message.find("double-quoted"), std::string::npos);
  EXPECT_EQ(lit.error->column, 10);
}

TEST(config, durations) {
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("2m")->count(), 120000);
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("-5s"));
}
