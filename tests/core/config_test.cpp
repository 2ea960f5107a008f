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
  auto again = parse(to_toml(r.cfg, secrets::include), target_os::linux_os);
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

// Values the engine cannot run with are refused at the value itself, and the
// message names the key and the limit (issue #12).
TEST(config, engine_breaking_values_refused_with_place_and_limit) {
  struct row {
    const char* section;
    std::string line;  // the key's line, line 2 of the file
    const char* key;
    const char* words;  // in the message: the limit
    int column = 0;     // 0: where the value after " = " starts
  };
  const std::string long_name(256, 'x');
  const row rows[] = {
      {"engine", "heartbeat_interval = \"0s\"", "engine.heartbeat_interval", "at least 1s"},
      {"engine", "heartbeat_interval = \"999ms\"", "engine.heartbeat_interval", "at least 1s"},
      {"engine", "no_traffic_warn_after = \"99ms\"", "engine.no_traffic_warn_after", "at least 100ms"},
      {"engine", "reconnect_backoff_initial = \"0ms\"", "engine.reconnect_backoff_initial", "at least 100ms"},
      {"engine", "reconnect_backoff_max = \"50ms\"", "engine.reconnect_backoff_max", "at least 100ms"},
      {"engine", "reconnect_total_cap = \"999ms\"", "engine.reconnect_total_cap", "at least 1s"},
      {"engine", "heartbeat_interval = \"721h\"", "engine.heartbeat_interval", "at most 720h"},
      {"engine", "reconnect_total_cap = \"999999999h\"", "engine.reconnect_total_cap", "at most 720h"},
      {"proxy", "tcp_connect_timeout = \"0s\"", "proxy.tcp_connect_timeout", "at least 100ms"},
      {"proxy", "tcp_connect_timeout = \"99ms\"", "proxy.tcp_connect_timeout", "at least 100ms"},
      {"proxy", "udp_associate_timeout = \"10ms\"", "proxy.udp_associate_timeout", "at least 100ms"},
      {"ui", "log_max_mb = 0", "ui.log_max_mb", "from 1 to 1000000"},
      {"ui", "log_max_mb = -5", "ui.log_max_mb", "from 1 to 1000000"},
      {"ui", "log_backups = 101", "ui.log_backups", "from 0 to 100"},
      {"ui", "log_backups = -1", "ui.log_backups", "from 0 to 100"},
      {"targets", "processes = [\"\"]", "targets.processes", "must not be empty", 14},
      {"targets", "processes = [\"Discord\", \"/opt/discord/Discord\"]", "targets.processes",
       "a process name, not a path: use the file name, e.g. Discord", 25},
      {"targets", "processes = ['C:\\Discord\\Discord.exe']", "targets.processes", "not a path", 14},
      {"targets", "processes = [\"Disc\\u0000ord\"]", "targets.processes", "NUL", 14},
      {"targets", "processes = [\"" + long_name + "\"]", "targets.processes", "at most 255 bytes", 14},
  };
  for (auto& r : rows) {
    std::string text = std::string("[") + r.section + "]\n" + r.line + "\n";
    auto res = parse(text, target_os::linux_os);
    ASSERT_TRUE(res.error) << text;
    EXPECT_EQ(res.error->key, r.key) << text;
    EXPECT_EQ(res.error->line, 2) << text;
    int column = r.column ? r.column : static_cast<int>(r.line.find(" = ") + 4);
    EXPECT_EQ(res.error->column, column) << text;
    EXPECT_NE(res.error->message.find(r.words), std::string::npos) << res.error->message;
    std::string shown = res.error->to_string("c.toml");
    EXPECT_EQ(shown.rfind("c.toml:2:" + std::to_string(column) + ": " + r.key + ": ", 0), 0u) << shown;
    EXPECT_EQ(res.cfg.engine.heartbeat_interval.count(), 5000) << "M-4: a refused file yields the defaults";
  }
  // Windows names the example after its own executables.
  auto w = parse("[targets]\nprocesses = [\"C:/Discord.exe\"]\n", target_os::windows);
  ASSERT_TRUE(w.error);
  EXPECT_NE(w.error->message.find("e.g. Discord.exe"), std::string::npos) << w.error->message;
}

TEST(config, boundary_values_accepted) {
  const std::string name255(255, 'n');
  std::string text =
      "[proxy]\ntcp_connect_timeout = \"100ms\"\nudp_associate_timeout = \"100ms\"\n"
      "[targets]\nprocesses = [\"" +
      name255 +
      "\", \"Discord.exe\", \"my app\"]\n"
      "[ui]\nlog_max_mb = 1\nlog_backups = 100\n"
      "[engine]\nheartbeat_interval = \"1s\"\nno_traffic_warn_after = \"100ms\"\n"
      "reconnect_backoff_initial = \"100ms\"\nreconnect_backoff_max = \"100ms\"\n"
      "reconnect_total_cap = \"1s\"\n";
  auto r = parse(text, target_os::linux_os);
  ASSERT_FALSE(r.error) << r.error->to_string("t");
  EXPECT_EQ(r.cfg.proxy.tcp_connect_timeout.count(), 100);
  EXPECT_EQ(r.cfg.proxy.udp_associate_timeout.count(), 100);
  EXPECT_EQ(r.cfg.ui.log_max_mb, 1);
  EXPECT_EQ(r.cfg.ui.log_backups, 100);
  EXPECT_EQ(r.cfg.engine.heartbeat_interval.count(), 1000);
  EXPECT_EQ(r.cfg.engine.reconnect_total_cap.count(), 1000);
  EXPECT_TRUE(r.cfg.is_target(name255));
  auto zero = parse("[ui]\nlog_backups = 0\n[engine]\nheartbeat_interval = \"720h\"\n", target_os::linux_os);
  ASSERT_FALSE(zero.error) << zero.error->to_string("t");
  EXPECT_EQ(zero.cfg.ui.log_backups, 0);
  // What to_toml writes for the extremes reads back unchanged.
  auto again = parse(to_toml(r.cfg), target_os::linux_os);
  ASSERT_FALSE(again.error) << again.error->to_string("t");
  EXPECT_EQ(again.cfg.proxy.tcp_connect_timeout.count(), 100);
  auto hours = parse(to_toml(zero.cfg), target_os::linux_os);
  ASSERT_FALSE(hours.error) << hours.error->to_string("t");
  EXPECT_EQ(hours.cfg.engine.heartbeat_interval, zero.cfg.engine.heartbeat_interval);
}

// Every config the end-to-end tests and the README write stays valid.
TEST(config, configs_in_use_stay_valid) {
  auto r = parse(
      "version = 1\n[proxy]\nhost = \"10.0.0.2\"\nport = 1080\nudp_check = \"10.0.0.3:53\"\n"
      "udp_associate_timeout = \"1s\"\ntcp_connect_timeout = \"1s\"\n[targets]\nprocesses = [\"droverclient\", "
      "\"drovercurl\"]\n[ui]\nlog_level = \"debug\"\nlog_max_mb = 10\nlog_backups = 3\n[engine]\n"
      "heartbeat_interval = \"1s\"\nno_traffic_warn_after = \"30s\"\nreconnect_backoff_initial = \"1s\"\n"
      "reconnect_backoff_max = \"2s\"\nreconnect_total_cap = \"5m\"\n",
      target_os::linux_os);
  ASSERT_FALSE(r.error) << r.error->to_string("t");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(config, login_and_password_never_in_describe_or_dumped_toml) {
  auto r = parse("[proxy]\nauth = true\nlogin = \"alice-account\"\npassword = \"hunter2\"\n", target_os::linux_os);
  ASSERT_FALSE(r.error) << r.error->to_string("t");
  auto d = r.cfg.describe();
  EXPECT_EQ(d.find("alice-account"), std::string::npos) << d;
  EXPECT_EQ(d.find("hunter2"), std::string::npos) << d;
  EXPECT_NE(d.find("(auth, login ***, password ***)"), std::string::npos) << d;
  auto dumped = to_toml(r.cfg);
  EXPECT_EQ(dumped.find("alice-account"), std::string::npos) << dumped;
  EXPECT_EQ(dumped.find("hunter2"), std::string::npos) << dumped;
  auto back = parse(dumped, target_os::linux_os);
  ASSERT_FALSE(back.error) << back.error->to_string("t");
  EXPECT_EQ(back.cfg.proxy.login, "***");
  EXPECT_EQ(back.cfg.proxy.password, "***");
  // Unset stays visibly unset.
  auto none = parse("[proxy]\nport = 1081\n", target_os::linux_os);
  auto plain = parse(to_toml(none.cfg), target_os::linux_os);
  ASSERT_FALSE(plain.error);
  EXPECT_EQ(plain.cfg.proxy.login, "");
  EXPECT_EQ(plain.cfg.proxy.password, "");
  EXPECT_NE(none.cfg.describe().find("(no auth)"), std::string::npos);
  // Only the file writer asks for the secrets themselves.
  auto file = to_toml(r.cfg, secrets::include);
  EXPECT_NE(file.find("alice-account"), std::string::npos);
  EXPECT_NE(file.find("hunter2"), std::string::npos);
}

// fuzz_config: to_toml wrote 'literal' strings with raw UTF-8, which parse()
// refuses for code points toml++ mishandles; what was read must read back.
TEST(config, written_file_reads_back_with_non_ascii_text) {
  auto r = parse(
      "[proxy]\nhost = \"\xC2\xBD"
      "d77\"\nauth = true\nlogin = \"\xD0\xB3\xC3\xA9\"\npassword = \"a\\tb\\nc\"\n"
      "[targets]\nprocesses = [\"\xD0\x94\xD0\xB8\xD1\x81\xD0\xBA\xD0\xBE\xD1\x80\xD0\xB4\"]\n",
      target_os::linux_os);
  ASSERT_FALSE(r.error) << r.error->to_string("t");
  auto file = to_toml(r.cfg, secrets::include);
  auto again = parse(file, target_os::linux_os);
  ASSERT_FALSE(again.error) << again.error->to_string("written") << "\n" << file;
  EXPECT_EQ(again.cfg.proxy.host, r.cfg.proxy.host);
  EXPECT_EQ(again.cfg.proxy.login, r.cfg.proxy.login);
  EXPECT_EQ(again.cfg.proxy.password, "a\tb\nc");
  EXPECT_EQ(again.cfg.targets.processes, r.cfg.targets.processes);
}
