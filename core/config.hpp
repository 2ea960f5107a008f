#pragma once
/// The TOML config schema of the seed, its defaults and validation.
/// Loading never throws: a broken file yields defaults plus a diagnostic.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/address.hpp"

namespace drover::config {

enum class target_os { linux_os, windows };

using millis = std::chrono::milliseconds;

struct proxy_section {
  std::string host = "127.0.0.1";
  uint16_t port = 1080;
  bool auth = false;
  std::string login;
  std::string password;  ///< never printed, logged or dumped
  millis udp_associate_timeout{5000};
  millis tcp_connect_timeout{10000};
  /// Where the health check sends a DNS query through the UDP relay to see
  /// a datagram come back ("host:port", "[v6]:port"). Tests point it at a
  /// responder of their own.
  endpoint udp_check = endpoint::v4({1, 1, 1, 1}, 53);
};

struct targets_section {
  std::vector<std::string> processes;
  bool include_vesktop = false;
};

struct skip_section {
  std::vector<cidr> extra_skip_cidrs;
  bool multicast = true;
};

struct ui_section {
  std::string log_level = "info";
  int log_max_mb = 10;
  int log_backups = 3;
  bool tray_icon = true;
  bool auto_start = false;
  bool shown_tray_toast = false;
  std::string theme = "dark";
};

struct update_section {
  bool check_on_startup = true;
  std::string forgejo_repo;
};

struct engine_section {
  millis heartbeat_interval{5000};
  millis no_traffic_warn_after{30000};
  millis reconnect_backoff_initial{1000};
  millis reconnect_backoff_max{30000};
  millis reconnect_total_cap{300000};
};

struct config {
  int version = 1;
  proxy_section proxy;
  targets_section targets;
  skip_section skip;
  ui_section ui;
  update_section update;
  engine_section engine;
  target_os os = target_os::linux_os;

  /// True if a process whose executable file name is `exe` is a target
  /// (case-sensitive on Linux, case-insensitive on Windows).
  bool is_target(const std::string& exe) const;
  /// Human summary for the start-up log and `drover dump`: neither the login
  /// nor the password appears ("(auth, login ***, password ***)").
  std::string describe() const;
};

/// A problem found while loading, with its place in the file.
struct diagnostic {
  std::string key;  ///< dotted key, empty for syntax errors
  int line = 0;
  int column = 0;
  std::string message;
  /// "config.toml:3:7: proxy.port: must be 1..65535"
  std::string to_string(const std::string& file) const;
};

struct load_result {
  config cfg;
  std::vector<diagnostic> warnings;  ///< unknown keys and the like
  std::optional<diagnostic> error;   ///< syntax or invalid value: cfg holds defaults
};

config defaults(target_os os);
/// Parses TOML text. On any error `cfg` is the defaults and `error` is set.
load_result parse(const std::string& text, target_os os);
/// Whether to_toml writes the login and password or "***" in their place
/// ("" when unset).
enum class secrets { redact, include };
/// Renders a config back to TOML. Redacted unless asked otherwise: only the
/// code that writes the config file itself may pass secrets::include; a dump,
/// a log line or a bug report gets the masked form.
std::string to_toml(const config& c, secrets s = secrets::redact);

/// Parses "host:port", "1.2.3.4:port" or "[v6]:port" (port 1..65535; a
/// host name is kept as a name).
std::optional<endpoint> parse_host_port(const std::string& s);

/// Parses "500ms", "5s", "2m", "1h".
std::optional<millis> parse_duration(const std::string& s);

}  // namespace drover::config
