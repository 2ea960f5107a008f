#include "core/config_scan.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace drover::config {

std::string duration_text(millis m) {
  if (m.count() != 0 && m.count() % 3600000 == 0) return std::to_string(m.count() / 3600000) + "h";
  if (m.count() != 0 && m.count() % 60000 == 0) return std::to_string(m.count() / 60000) + "m";
  if (m.count() % 1000 == 0) return std::to_string(m.count() / 1000) + "s";
  return std::to_string(m.count()) + "ms";
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
