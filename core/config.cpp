#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
// toml++ 3.3's internal debug assertions fire on some malformed input that
// its parser otherwise rejects cleanly (fuzz_config: "[\n"); release builds
// compile them out, and the fuzzers (ASan/UBSan) check the real safety.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include "core/config_scan.hpp"

namespace drover::config {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Below these the engine misbehaves rather than merely runs fast: each
// heartbeat runs iptables to check the rules (0s spawned 800 processes a
// second), and a timeout under 100 ms fails every flow through a proxy that
// is not on this host.
constexpr millis min_heartbeat{1000};
constexpr millis min_timeout{100};
constexpr millis max_duration{720LL * 3600 * 1000};
constexpr const char* timeout_why = "a shorter one fails before a proxy can answer";

// Linux and Windows file names are at most 255 bytes (NAME_MAX, MAX_PATH
// components).
constexpr size_t max_process_name = 255;

// Raised inside the loader only, caught in parse(): validation is start-up code.
struct invalid {
  diagnostic d;
};

diagnostic at(const toml::node& n, std::string key, std::string message) {
  auto b = n.source().begin;
  return diagnostic{std::move(key), static_cast<int>(b.line), static_cast<int>(b.column), std::move(message)};
}

struct reader {
  const toml::table& root;
  std::vector<diagnostic>& warnings;

  const toml::table* section(const char* name) {
    auto* n = root.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) throw invalid{at(*n, name, "must be a table ([" + std::string(name) + "])")};
    return n->as_table();
  }

  void unknown_keys(const toml::table& t, const std::string& prefix, std::set<std::string> known) {
    for (auto& kv : t) {
      std::string k(kv.first.str());
      if (!known.count(k)) warnings.push_back(at(kv.second, prefix + k, "unknown key ignored"));
    }
  }

  template <class T>
  void get(const toml::table* t, const std::string& sec, const char* key, T& out) {
    if (!t) return;
    auto* n = t->get(key);
    if (!n) return;
    std::string full = sec + "." + key;
    if constexpr (std::is_same_v<T, bool>) {
      if (!n->is_boolean()) throw invalid{at(*n, full, "must be true or false")};
      out = n->as_boolean()->get();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!n->is_string()) throw invalid{at(*n, full, "must be a string")};
      out = n->as_string()->get();
    }
  }

  // An integer in [lo, hi]; `what` says what it counts, for the message.
  void integer(const toml::table* t, const std::string& sec, const char* key, int& out, int lo, int hi,
               const char* what) {
    auto* n = t ? t->get(key) : nullptr;
    if (!n) return;
    std::string full = sec + "." + key;
    if (!n->is_integer()) throw invalid{at(*n, full, "must be an integer")};
    int64_t v = n->as_integer()->get();
    if (v < lo || v > hi)
      throw invalid{at(*n, full,
                       "must be from " + std::to_string(lo) + " to " + std::to_string(hi) + " (" + what + "), not " +
                           std::to_string(v))};
    out = static_cast<int>(v);
  }

  // A duration of at least `floor`; `why` explains that floor. The ceiling
  // keeps every duration far from overflowing the nanosecond clocks of the
  // timers it ends up in ("999999999h" would wrap and fire at once).
  void duration(const toml::table* t, const std::string& sec, const char* key, millis& out, millis floor,
                const char* why) {
    auto* n = t ? t->get(key) : nullptr;
    if (!n) return;
    std::string full = sec + "." + key;
    if (!n->is_string()) throw invalid{at(*n, full, "must be a duration string like \"5s\"")};
    auto d = parse_duration(n->as_string()->get());
    if (!d) throw invalid{at(*n, full, "not a duration (use e.g. \"500ms\", \"5s\", \"2m\")")};
    if (*d < floor) throw invalid{at(*n, full, "must be at least " + duration_text(floor) + " (" + why + ")")};
    if (*d > max_duration) throw invalid{at(*n, full, "must be at most " + duration_text(max_duration) + " (30 days)")};
    out = *d;
  }

  std::vector<std::string> strings(const toml::table* t, const std::string& sec, const char* key,
                                   std::vector<std::string> fallback) {
    if (!t || !t->get(key)) return fallback;
    auto* n = t->get(key);
    std::string full = sec + "." + key;
    if (!n->is_array()) throw invalid{at(*n, full, "must be an array of strings")};
    std::vector<std::string> out;
    for (auto& el : *n->as_array()) {
      if (!el.is_string()) throw invalid{at(el, full, "must contain only strings")};
      out.push_back(el.as_string()->get());
    }
    return out;
  }
};

// Why `name` cannot be a target's executable file name, if it cannot.
std::optional<std::string> bad_process_name(const std::string& name, target_os os) {
  if (name.empty()) return "a process name must not be empty";
  if (name.find('\0') != std::string::npos) return "a process name must not contain a NUL character";
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    return std::string("a process name, not a path: use the file name, e.g. ") +
           (os == target_os::windows ? "Discord.exe" : "Discord");
  if (name.size() > max_process_name)
    return "a process name is at most " + std::to_string(max_process_name) + " bytes (this one has " +
           std::to_string(name.size()) + ")";
  return std::nullopt;
}

void read_proxy(reader& r, config& c) {
  auto* t = r.section("proxy");
  if (!t) return;
  r.unknown_keys(
      *t, "proxy.",
      {"host", "port", "auth", "login", "password", "udp_associate_timeout", "tcp_connect_timeout", "udp_check"});
  auto& p = c.proxy;
  r.get(t, "proxy", "host", p.host);
  if (p.host.empty()) throw invalid{at(*t->get("host"), "proxy.host", "must not be empty")};
  if (auto* n = t->get("port")) {
    if (!n->is_integer()) throw invalid{at(*n, "proxy.port", "must be an integer")};
    int64_t v = n->as_integer()->get();
    if (v < 1 || v > 65535) throw invalid{at(*n, "proxy.port", "must be 1..65535")};
    p.port = static_cast<uint16_t>(v);
  }
  r.get(t, "proxy", "auth", p.auth);
  r.get(t, "proxy", "login", p.login);
  r.get(t, "proxy", "password", p.password);
  r.duration(t, "proxy", "udp_associate_timeout", p.udp_associate_timeout, min_timeout, timeout_why);
  r.duration(t, "proxy", "tcp_connect_timeout", p.tcp_connect_timeout, min_timeout, timeout_why);
  if (auto* n = t->get("udp_check")) {
    std::string v;
    r.get(t, "proxy", "udp_check", v);
    auto e = parse_host_port(v);
    if (!e) throw invalid{at(*n, "proxy.udp_check", "not host:port (e.g. \"1.1.1.1:53\", \"[2606:4700::1111]:53\")")};
    p.udp_check = *e;
  }
  if (p.auth && p.login.empty()) throw invalid{at(*t, "proxy.login", "required when proxy.auth = true")};
  if (p.login.size() > 255 || p.password.size() > 255)
    throw invalid{at(*t, "proxy.login", "login and password are limited to 255 bytes")};
}

void read_rest(reader& r, config& c) {
  if (auto* t = r.section("targets")) {
    r.unknown_keys(*t, "targets.", {"processes", "include_vesktop"});
    c.targets.processes = r.strings(t, "targets", "processes", c.targets.processes);
    for (size_t i = 0; i < c.targets.processes.size(); ++i)
      if (auto why = bad_process_name(c.targets.processes[i], c.os))
        throw invalid{at(*t->get("processes")->as_array()->get(i), "targets.processes", *why)};
    r.get(t, "targets", "include_vesktop", c.targets.include_vesktop);
  }
  if (auto* t = r.section("skip")) {
    r.unknown_keys(*t, "skip.", {"extra_skip_cidrs", "multicast"});
    auto list = r.strings(t, "skip", "extra_skip_cidrs", {});
    for (size_t i = 0; i < list.size(); ++i) {
      auto cidr_v = parse_cidr(list[i]);
      if (!cidr_v)
        throw invalid{at(*t->get("extra_skip_cidrs")->as_array()->get(i), "skip.extra_skip_cidrs",
                         "not a CIDR range: \"" + list[i] + "\"")};
      c.skip.extra_skip_cidrs.push_back(*cidr_v);
    }
    r.get(t, "skip", "multicast", c.skip.multicast);
  }
  if (auto* t = r.section("ui")) {
    r.unknown_keys(*t, "ui.",
                   {"log_level", "log_max_mb", "log_backups", "tray_icon", "auto_start", "shown_tray_toast", "theme"});
    auto& u = c.ui;
    r.get(t, "ui", "log_level", u.log_level);
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
    if (!levels.count(u.log_level))
      throw invalid{at(*t->get("log_level"), "ui.log_level", "must be one of trace, debug, info, warn, error, off")};
    // 0 MB would rotate on every line; hundreds of backups fill the disk.
    r.integer(t, "ui", "log_max_mb", u.log_max_mb, 1, 1000000, "MB per log file");
    r.integer(t, "ui", "log_backups", u.log_backups, 0, 100, "old log files kept");
    r.get(t, "ui", "tray_icon", u.tray_icon);
    r.get(t, "ui", "auto_start", u.auto_start);
    r.get(t, "ui", "shown_tray_toast", u.shown_tray_toast);
    r.get(t, "ui", "theme", u.theme);
    if (u.theme != "dark" && u.theme != "light" && u.theme != "auto")
      throw invalid{at(*t->get("theme"), "ui.theme", "must be dark, light or auto")};
  }
  if (auto* t = r.section("update")) {
    r.unknown_keys(*t, "update.", {"check_on_startup", "forgejo_repo"});
    r.get(t, "update", "check_on_startup", c.update.check_on_startup);
    r.get(t, "update", "forgejo_repo", c.update.forgejo_repo);
  }
  if (auto* t = r.section("engine")) {
    r.unknown_keys(*t, "engine.",
                   {"heartbeat_interval", "no_traffic_warn_after", "reconnect_backoff_initial", "reconnect_backoff_max",
                    "reconnect_total_cap"});
    auto& e = c.engine;
    r.duration(t, "engine", "heartbeat_interval", e.heartbeat_interval, min_heartbeat,
               "each heartbeat runs iptables to check the rules");
    r.duration(t, "engine", "no_traffic_warn_after", e.no_traffic_warn_after, min_timeout,
               "traffic is looked at on each heartbeat");
    r.duration(t, "engine", "reconnect_backoff_initial", e.reconnect_backoff_initial, min_timeout,
               "0 would retry without a pause; the engine waits at least 1s anyway");
    r.duration(t, "engine", "reconnect_backoff_max", e.reconnect_backoff_max, min_timeout,
               "0 would retry without a pause; the engine waits at least 1s anyway");
    // Counted in whole seconds: under 1s it would be 0, and the first
    // unreachable proxy would fail the engine without a single retry.
    r.duration(t, "engine", "reconnect_total_cap", e.reconnect_total_cap, millis(1000),
               "it is counted in whole seconds, and 0 would give up without a retry");
    if (e.reconnect_backoff_initial.count() <= 0 || e.reconnect_backoff_max < e.reconnect_backoff_initial)
      throw invalid{at(*t, "engine.reconnect_backoff_max", "must be >= reconnect_backoff_initial > 0")};
  }
}

// Hook for schema changes: today every version is 1; missing means 1.
void migrate(const toml::table& root, config& c) {
  if (auto* n = root.get("version")) {
    if (!n->is_integer()) throw invalid{at(*n, "version", "must be an integer")};
    auto v = n->as_integer()->get();
    if (v < 1 || v > 1)
      throw invalid{
          at(*n, "version", "unsupported config version " + std::to_string(v) + " (this Drover reads version 1)")};
    c.version = static_cast<int>(v);
  }
}

}  // namespace

std::string diagnostic::to_string(const std::string& file) const {
  std::ostringstream os;
  os << file << ":" << line << ":" << column << ": ";
  if (!key.empty()) os << key << ": ";
  os << message;
  return os.str();
}

config defaults(target_os os) {
  config c;
  c.os = os;
  if (os == target_os::windows)
    c.targets.processes = {"Discord.exe", "DiscordCanary.exe", "DiscordPTB.exe", "Update.exe"};
  else
    c.targets.processes = {"Discord", "DiscordCanary", "DiscordPTB"};
  return c;
}

load_result parse(const std::string& text, target_os os) {
  load_result out;
  out.cfg = defaults(os);
  config c = defaults(os);
  auto safe = sanitize(text);
  if ((out.error = safe.error)) return out;
  try {
    toml::table root = toml::parse(safe.text);
    reader r{root, out.warnings};
    r.unknown_keys(root, "", {"version", "proxy", "targets", "skip", "ui", "update", "engine"});
    migrate(root, c);
    read_proxy(r, c);
    read_rest(r, c);
    out.cfg = std::move(c);
    std::stable_sort(out.warnings.begin(), out.warnings.end(),
                     [](const diagnostic& a, const diagnostic& b) { return a.line < b.line; });
  } catch (const toml::parse_error& e) {
    auto b = e.source().begin;
    out.error = diagnostic{"", static_cast<int>(b.line), static_cast<int>(b.column), std::string(e.description())};
  } catch (const invalid& e) {
    out.error = e.d;
  }
  return out;
}

bool config::is_target(const std::string& exe) const {
  auto match = [&](const std::string& want) {
    return os == target_os::windows ? lower(want) == lower(exe) : want == exe;
  };
  if (std::any_of(targets.processes.begin(), targets.processes.end(), match)) return true;
  if (targets.include_vesktop) return match(os == target_os::windows ? "Vesktop.exe" : "vesktop");
  return false;
}

}  // namespace drover::config
