#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
// toml++ 3.3's internal debug assertions fire on some malformed input that
// its parser otherwise rejects cleanly (fuzz_config: "[\n"); release builds
// compile them out, and the fuzzers (ASan/UBSan) check the real safety.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace drover::config {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

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
    } else if constexpr (std::is_same_v<T, int>) {
      if (!n->is_integer()) throw invalid{at(*n, full, "must be an integer")};
      int64_t v = n->as_integer()->get();
      if (v < 0 || v > 1000000) throw invalid{at(*n, full, "out of range")};
      out = static_cast<int>(v);
    } else if constexpr (std::is_same_v<T, millis>) {
      if (!n->is_string()) throw invalid{at(*n, full, "must be a duration string like \"5s\"")};
      auto d = parse_duration(n->as_string()->get());
      if (!d) throw invalid{at(*n, full, "not a duration (use e.g. \"500ms\", \"5s\", \"2m\")")};
      out = *d;
    }
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
  r.get(t, "proxy", "udp_associate_timeout", p.udp_associate_timeout);
  r.get(t, "proxy", "tcp_connect_timeout", p.tcp_connect_timeout);
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
    r.get(t, "ui", "log_max_mb", u.log_max_mb);
    r.get(t, "ui", "log_backups", u.log_backups);
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
    r.get(t, "engine", "heartbeat_interval", e.heartbeat_interval);
    r.get(t, "engine", "no_traffic_warn_after", e.no_traffic_warn_after);
    r.get(t, "engine", "reconnect_backoff_initial", e.reconnect_backoff_initial);
    r.get(t, "engine", "reconnect_backoff_max", e.reconnect_backoff_max);
    r.get(t, "engine", "reconnect_total_cap", e.reconnect_total_cap);
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

// A light pre-scan of what toml++ 3.3 must never see (both found by
// fuzz_config): control characters, which trip its assertions, and non-ASCII
// bytes outside strings and comments, which reach an unreachable branch in
// its whitespace test (U+00A1..U+0499, so every Cyrillic letter). Both are
// invalid TOML anyway; reported with their position. A leading UTF-8 BOM
// (Notepad writes one) is fine.
// toml++ 3.3 must be shielded from two of its own bugs (found by
// fuzz_config): control characters trip its assertions, and its whitespace
// test reaches an unreachable branch (undefined behaviour in release builds)
// for the code points below, which include Latin-1 letters, Greek and most
// of Cyrillic. So those code points never reach it: inside "basic" strings
// they become \uXXXX escapes (same value), inside comments '?' (ignored
// anyway), and anywhere else they are refused with their position. Whatever
// toml++ then thinks is a string or a comment, it sees only safe text.
bool trips_toml_whitespace_test(char32_t c) {
  if (c < 0xA0 || c > 0xFEFF) return false;
  auto idx = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
  if ((1ull << idx) & 0x7FFFFFFFFFFFF75Eull) return false;
  if (c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  return idx != 5 && idx != 7;
}

// Decodes one UTF-8 sequence at text[i]; returns its length (1 for a stray
// byte, which toml++ reports itself).
size_t utf8_at(const std::string& text, size_t i, char32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
  if (i + n > text.size()) n = 1;
  for (size_t k = 1; k < n; ++k)
    if ((b(k) & 0xc0) != 0x80) n = 1;
  cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (b(k) & 0x3fu);
  return n;
}

struct sanitized {
  std::string text;
  std::optional<diagnostic> error;
};

sanitized sanitize(const std::string& in) {
  enum class st { code, comment, basic, literal, ml_basic, ml_literal } s = st::code;
  sanitized out;
  out.text.reserve(in.size());
  int line = 1, col = 1;
  size_t i = 0;
  bool escaped = false;  // previous character was an escaping backslash
  auto at = [&](const char* lit) { return in.compare(i, std::strlen(lit), lit) == 0; };
  while (i < in.size()) {
    char32_t cp;
    size_t n = utf8_at(in, i, cp);
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f) {
      out.error = diagnostic{"", line, col, "control character " + std::to_string(cp) + " is not allowed in TOML"};
      return out;
    }
    size_t advance = n;
    bool triple = s == st::code && (at("\"\"\"") || at("'''"));
    if (trips_toml_whitespace_test(cp)) {
      char esc[16];
      std::snprintf(esc, sizeof esc, "\\u%04X", static_cast<unsigned>(cp));
      if ((s == st::basic || s == st::ml_basic) && !escaped) {
        out.text += esc;
      } else if (s == st::comment) {
        out.text += '?';
      } else {
        out.error = diagnostic{
            "", line, col,
            std::string("character U+") + (esc + 2) + " is only allowed in comments and \"double-quoted\" strings"};
        return out;
      }
    } else {
      if (triple) advance = 3;
      out.text.append(in, i, advance);
    }
    bool was_escaped = escaped;
    escaped = false;
    switch (s) {
      case st::code:
        if (cp == '#')
          s = st::comment;
        else if (triple)
          s = cp == '"' ? st::ml_basic : st::ml_literal;
        else if (cp == '"')
          s = st::basic;
        else if (cp == '\'')
          s = st::literal;
        break;
      case st::comment:
        if (cp == '\n') s = st::code;
        break;
      case st::basic:
      case st::ml_basic:
        if (cp == '\\' && !was_escaped)
          escaped = true;
        else if (!was_escaped && s == st::basic && (cp == '"' || cp == '\n'))
          s = st::code;
        else if (!was_escaped && s == st::ml_basic && at("\"\"\"")) {
          out.text.append("\"\"");
          advance = 3;
          triple = true;
          s = st::code;
        }
        break;
      case st::literal:
        if (cp == '\'' || cp == '\n') s = st::code;
        break;
      case st::ml_literal:
        if (at("'''")) {
          out.text.append("''");
          advance = 3;
          triple = true;
          s = st::code;
        }
        break;
    }
    if (cp == '\n') {
      ++line;
      col = 1;
    } else {
      col += triple ? 3 : 1;
    }
    i += advance;
  }
  return out;
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

namespace {
std::string dur(millis m) {
  if (m.count() % 60000 == 0) return std::to_string(m.count() / 60000) + "m";
  if (m.count() % 1000 == 0) return std::to_string(m.count() / 1000) + "s";
  return std::to_string(m.count()) + "ms";
}
}  // namespace

std::string config::describe() const {
  std::ostringstream os_;
  os_ << "proxy " << proxy.host << ":" << proxy.port
      << (proxy.auth ? " (user " + proxy.login + ", password ***)" : " (no auth)") << "; targets:";
  for (auto& p : targets.processes) os_ << " " << p;
  return os_.str();
}

std::string to_toml(const config& c) {
  toml::array procs, cidrs;
  for (auto& p : c.targets.processes) procs.push_back(p);
  for (auto& r : c.skip.extra_skip_cidrs) cidrs.push_back(r.to_string());
  toml::table t{
      {"version", c.version},
      {"proxy", toml::table{{"host", c.proxy.host},
                            {"port", c.proxy.port},
                            {"auth", c.proxy.auth},
                            {"login", c.proxy.login},
                            {"password", c.proxy.password},
                            {"udp_associate_timeout", dur(c.proxy.udp_associate_timeout)},
                            {"tcp_connect_timeout", dur(c.proxy.tcp_connect_timeout)},
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
      {"engine", toml::table{{"heartbeat_interval", dur(c.engine.heartbeat_interval)},
                             {"no_traffic_warn_after", dur(c.engine.no_traffic_warn_after)},
                             {"reconnect_backoff_initial", dur(c.engine.reconnect_backoff_initial)},
                             {"reconnect_backoff_max", dur(c.engine.reconnect_backoff_max)},
                             {"reconnect_total_cap", dur(c.engine.reconnect_total_cap)}}},
  };
  std::ostringstream os;
  os << t << "\n";
  return os.str();
}

std::optional<endpoint> parse_host_port(const std::string& s) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = s.substr(0, colon), port_text = s.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  uint32_t port = 0;
  for (char ch : port_text) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  auto p = static_cast<uint16_t>(port);
  if (host.front() == '[') {
    if (host.back() != ']') return std::nullopt;
    auto a = parse_ipv6(host.substr(1, host.size() - 2));
    if (!a) return std::nullopt;
    return endpoint::v6(*a, p);
  }
  // An unbracketed IPv6 address is ambiguous ("::1:53"); refuse it.
  if (host.find(':') != std::string::npos) return std::nullopt;
  if (auto a = parse_ipv4(host)) return endpoint::v4(*a, p);
  if (host.size() > 253) return std::nullopt;
  for (char ch : host)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.' && ch != '_') return std::nullopt;
  // "1.2.3" or "300.1.1.1" are typos of an address, not host names.
  if (std::all_of(host.begin(), host.end(),
                  [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) || ch == '.'; }))
    return std::nullopt;
  return endpoint::name(host, p);
}

std::optional<millis> parse_duration(const std::string& s) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i < 9) v = v * 10 + (s[i++] - '0');
  if (i == 0) return std::nullopt;
  std::string unit = s.substr(i);
  if (unit == "ms") return millis(v);
  if (unit == "s") return millis(v * 1000);
  if (unit == "m") return millis(v * 60000);
  if (unit == "h") return millis(v * 3600000);
  return std::nullopt;
}

}  // namespace drover::config
