#include "core/config.hpp"

#include <sstream>
#include <string>
// Defined as in config.cpp, for the same reason: every file that includes
// toml++ must see the same TOML_ASSERT (its functions are inline, and the
// linker keeps one definition of each).
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include "core/config_scan.hpp"

namespace drover::config {

namespace {
// What a dump or a log shows for a login or password: that it is set, never
// what it is (a login names the user's account at the proxy provider).
std::string masked(const std::string& secret) { return secret.empty() ? "" : "***"; }
}  // namespace

std::string config::describe() const {
  std::ostringstream os_;
  os_ << "proxy " << proxy.host << ":" << proxy.port
      << (proxy.auth ? (proxy.password.empty() ? " (auth, login ***, no password)" : " (auth, login ***, password ***)")
                     : " (no auth)")
      << "; targets:";
  for (auto& p : targets.processes) os_ << " " << p;
  return os_.str();
}

std::string to_toml(const config& c, secrets s) {
  bool keep = s == secrets::include;
  toml::array procs, cidrs;
  for (auto& p : c.targets.processes) procs.push_back(p);
  for (auto& r : c.skip.extra_skip_cidrs) cidrs.push_back(r.to_string());
  toml::table t{
      {"version", c.version},
      {"proxy", toml::table{{"host", c.proxy.host},
                            {"port", c.proxy.port},
                            {"auth", c.proxy.auth},
                            {"login", keep ? c.proxy.login : masked(c.proxy.login)},
                            {"password", keep ? c.proxy.password : masked(c.proxy.password)},
                            {"udp_associate_timeout", duration_text(c.proxy.udp_associate_timeout)},
                            {"tcp_connect_timeout", duration_text(c.proxy.tcp_connect_timeout)},
                            {"udp_check", c.proxy.udp_check.to_string()}}},
      {"targets", toml::table{{"processes", procs}, {"include_vesktop", c.targets.include_vesktop}}},
      {"skip", toml::table{{"extra_skip_cidrs", cidrs}, {"multicast", c.skip.multicast}}},
      {"ui", toml::table{{"log_level", c.ui.log_level},
                         {"log_max_mb", c.ui.log_max_mb},
                         {"log_backups", c.ui.log_backups},
                         {"tray_icon", c.ui.tray_icon},
                         {"auto_start", c.ui.auto_start},
                         {"shown_tray_toast", c.ui.shown_tray_toast},
                         {"theme", c.ui.theme}}},
      {"engine", toml::table{{"heartbeat_interval", duration_text(c.engine.heartbeat_interval)},
                             {"no_traffic_warn_after", duration_text(c.engine.no_traffic_warn_after)},
                             {"reconnect_backoff_initial", duration_text(c.engine.reconnect_backoff_initial)},
                             {"reconnect_backoff_max", duration_text(c.engine.reconnect_backoff_max)},
                             {"reconnect_total_cap", duration_text(c.engine.reconnect_total_cap)}}},
  };
  // Only "double-quoted" strings, and ASCII with \u escapes: toml++ would
  // write 'literal' strings with raw UTF-8, which parse() refuses for the
  // code points it must keep away from toml++ (see sanitize; fuzz_config
  // found a host name the writer could not read back).
  constexpr auto flags = toml::toml_formatter::default_flags & ~toml::format_flags::allow_literal_strings &
                         ~toml::format_flags::allow_multi_line_strings & ~toml::format_flags::allow_unicode_strings;
  std::ostringstream os;
  os << toml::toml_formatter{t, flags} << "\n";
  return os.str();
}

}  // namespace drover::config
