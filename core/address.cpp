#include "core/address.hpp"

#include <cctype>
#include <cstdio>
#include <vector>

namespace drover {

endpoint endpoint::v4(std::array<uint8_t, 4> a, uint16_t port) {
  endpoint e;
  e.k = kind::v4;
  for (int i = 0; i < 4; ++i) e.ip[i] = a[i];
  e.port = port;
  return e;
}

endpoint endpoint::v6(const std::array<uint8_t, 16>& a, uint16_t port) {
  endpoint e;
  e.k = kind::v6;
  e.ip = a;
  e.port = port;
  return e;
}

endpoint endpoint::name(std::string host, uint16_t port) {
  endpoint e;
  e.k = kind::name;
  e.host = std::move(host);
  e.port = port;
  return e;
}

bool endpoint::operator==(const endpoint& o) const {
  return k == o.k && port == o.port && (k == kind::name ? host == o.host : ip == o.ip);
}

std::string endpoint::addr_string() const {
  char buf[64];
  switch (k) {
    case kind::v4:
      std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
      return buf;
    case kind::v6: {
      std::string out;
      for (int i = 0; i < 16; i += 2) {
        std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", ip[i] << 8 | ip[i + 1]);
        out += buf;
      }
      return out;
    }
    case kind::name:
      return host;
  }
  return {};
}

std::string endpoint::to_string() const {
  std::string a = addr_string();
  if (k == kind::v6) a = "[" + a + "]";
  return a + ":" + std::to_string(port);
}

std::optional<std::array<uint8_t, 4>> parse_ipv4(const std::string& s) {
  std::array<uint8_t, 4> out{};
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + (s[i++] - '0');
    if (i == start || v > 255) return std::nullopt;
    out[part] = static_cast<uint8_t>(v);
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

std::optional<std::array<uint8_t, 16>> parse_ipv6(const std::string& in) {
  std::string s = in;
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty()) return std::nullopt;
  std::vector<uint16_t> head, tail;
  bool gap = false;
  size_t i = 0;
  if (s.compare(0, 2, "::") == 0) {
    gap = true;
    i = 2;
  }
  while (i < s.size()) {
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i])) && i - start < 4) {
      char c = s[i++];
      v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    if (i == start) return std::nullopt;
    (gap ? tail : head).push_back(static_cast<uint16_t>(v));
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap) return std::nullopt;
      gap = true;
      ++i;
    } else if (i == s.size()) {
      return std::nullopt;
    }
  }
  size_t n = head.size() + tail.size();
  if ((gap && n > 7) || (!gap && n != 8)) return std::nullopt;
  std::array<uint8_t, 16> out{};
  size_t w = 0;
  for (auto v : head) {
    out[w++] = static_cast<uint8_t>(v >> 8);
    out[w++] = static_cast<uint8_t>(v);
  }
  w = 16 - tail.size() * 2;
  for (auto v : tail) {
    out[w++] = static_cast<uint8_t>(v >> 8);
    out[w++] = static_cast<uint8_t>(v);
  }
  return out;
}

std::optional<endpoint> parse_ip(const std::string& s, uint16_t port) {
  if (auto a = parse_ipv4(s)) return endpoint::v4(*a, port);
  if (auto a = parse_ipv6(s)) return endpoint::v6(*a, port);
  return std::nullopt;
}

bool cidr::contains(const endpoint& e) const {
  if (e.k != k) return false;
  unsigned full = prefix / 8, rest = prefix % 8;
  for (unsigned i = 0; i < full; ++i)
    if (e.ip[i] != net[i]) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (e.ip[full] & mask) == (net[full] & mask);
}

std::string cidr::to_string() const {
  endpoint e;
  e.k = k;
  e.ip = net;
  return e.addr_string() + "/" + std::to_string(prefix);
}

std::optional<cidr> parse_cidr(const std::string& s) {
  auto slash = s.find('/');
  std::string addr = s.substr(0, slash);
  auto ep = parse_ip(addr);
  if (!ep) return std::nullopt;
  unsigned max = ep->k == endpoint::kind::v4 ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string::npos) {
    std::string p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > max) return std::nullopt;
  }
  cidr c;
  c.k = ep->k;
  c.prefix = static_cast<uint8_t>(prefix);
  // Normalise host bits away so 10.1.2.3/8 means 10.0.0.0/8.
  for (unsigned i = 0; i < 16; ++i) {
    int bits = static_cast<int>(prefix) - static_cast<int>(i * 8);
    uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    c.net[i] = ep->ip[i] & mask;
  }
  return c;
}

}  // namespace drover
