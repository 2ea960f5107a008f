#pragma once
// Test packets for the divert rewrite, built byte by byte with a checksum
// of the tests' own (RFC 1071 with the carry folded at every step, the
// pseudo-header laid out as bytes): nothing here calls core/packet, so a
// shared mistake cannot hide.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace drover::divert_test {

using addr4 = std::array<uint8_t, 4>;
using addr6 = std::array<uint8_t, 16>;

/// One IPv4 (IHL 5, id 0, DF, TTL 64) or IPv6 (hop limit 64, no extension
/// headers) packet with TCP (data offset 5) or UDP.
struct hdr {
  bool v6;
  uint8_t proto;  // 6 or 17
  addr4 src4, dst4;
  addr6 src6, dst6;
  uint16_t sport, dport;
  uint32_t seq = 1, ack = 1;
  uint8_t flags = 0x10;  // ACK
  uint16_t window = 0xffff;

  hdr mirrored() const {
    hdr h = *this;
    std::swap(h.src4, h.dst4);
    std::swap(h.src6, h.dst6);
    std::swap(h.sport, h.dport);
    return h;
  }
  hdr with_ports(uint16_t s, uint16_t d) const {
    hdr h = *this;
    h.sport = s;
    h.dport = d;
    return h;
  }
};

inline void put16(std::vector<uint8_t>& p, size_t at, uint32_t v) {
  p[at] = static_cast<uint8_t>(v >> 8);
  p[at + 1] = static_cast<uint8_t>(v);
}
inline uint32_t get16(const std::vector<uint8_t>& p, size_t at) {
  return static_cast<uint32_t>(p[at] << 8 | p[at + 1]);
}

inline uint32_t ones_sum(const uint8_t* b, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; i += 2) {
    s += static_cast<uint32_t>(b[i]) << 8 | (i + 1 < n ? b[i + 1] : 0u);
    s = (s & 0xffff) + (s >> 16);
  }
  return s;
}

// The pseudo-header as RFC 768/793 (IPv4) and RFC 8200 §8.1 (IPv6) draw it,
// followed by the transport segment.
inline std::vector<uint8_t> pseudo_and_segment(const std::vector<uint8_t>& p, size_t l4, size_t l4_len) {
  bool v6 = (p[0] >> 4) == 6;
  std::vector<uint8_t> b;
  if (v6) {
    b.insert(b.end(), p.begin() + 8, p.begin() + 40);
    b.push_back(static_cast<uint8_t>(l4_len >> 24));
    b.push_back(static_cast<uint8_t>(l4_len >> 16));
    b.push_back(static_cast<uint8_t>(l4_len >> 8));
    b.push_back(static_cast<uint8_t>(l4_len));
    b.insert(b.end(), {0, 0, 0, p[6]});
  } else {
    b.insert(b.end(), p.begin() + 12, p.begin() + 20);
    b.insert(b.end(), {0, p[9], static_cast<uint8_t>(l4_len >> 8), static_cast<uint8_t>(l4_len)});
  }
  b.insert(b.end(), p.begin() + static_cast<std::ptrdiff_t>(l4), p.begin() + static_cast<std::ptrdiff_t>(l4 + l4_len));
  return b;
}

/// Where the transport header starts and how long it is, from the IP
/// header alone; false for a layout these helpers do not build.
inline bool layout(const std::vector<uint8_t>& p, size_t& l4, size_t& l4_len) {
  if (p.size() < 20) return false;
  if ((p[0] >> 4) == 4) {
    l4 = static_cast<size_t>(p[0] & 15) * 4;
    size_t total = get16(p, 2);
    if (l4 < 20 || total < l4 || total > p.size() || (p[9] != 6 && p[9] != 17)) return false;
    l4_len = total - l4;
  } else {
    l4 = 40;
    if (p.size() < 40 || (p[6] != 6 && p[6] != 17) || 40 + get16(p, 4) > p.size()) return false;
    l4_len = get16(p, 4);
  }
  return l4_len >= (((p[0] >> 4) == 4 ? p[9] : p[6]) == 6 ? 20u : 8u);
}

inline bool reference_checksums_ok(const std::vector<uint8_t>& p) {
  size_t l4 = 0, l4_len = 0;
  if (!layout(p, l4, l4_len)) return false;
  bool v6 = (p[0] >> 4) == 6;
  if (!v6 && ones_sum(p.data(), l4) != 0xffff) return false;
  bool udp = (v6 ? p[6] : p[9]) == 17;
  if (udp && get16(p, l4 + 6) == 0) return false;  // "no checksum": never written here (and illegal in IPv6)
  auto b = pseudo_and_segment(p, l4, l4_len);
  return ones_sum(b.data(), b.size()) == 0xffff;
}

/// The packet `h` describes with `payload` bytes (a fixed pattern) and
/// checksums from the reference code.
inline std::vector<uint8_t> build(const hdr& h, size_t payload) {
  size_t ip = h.v6 ? 40 : 20, l4_len = (h.proto == 6 ? 20 : 8) + payload;
  std::vector<uint8_t> p(ip + l4_len, 0);
  if (h.v6) {
    p[0] = 0x60;
    put16(p, 4, static_cast<uint32_t>(l4_len));
    p[6] = h.proto;
    p[7] = 64;
    std::copy(h.src6.begin(), h.src6.end(), p.begin() + 8);
    std::copy(h.dst6.begin(), h.dst6.end(), p.begin() + 24);
  } else {
    p[0] = 0x45;
    put16(p, 2, static_cast<uint32_t>(p.size()));
    p[6] = 0x40;
    p[8] = 64;
    p[9] = h.proto;
    std::copy(h.src4.begin(), h.src4.end(), p.begin() + 12);
    std::copy(h.dst4.begin(), h.dst4.end(), p.begin() + 16);
    put16(p, 10, ~ones_sum(p.data(), 20) & 0xffff);
  }
  put16(p, ip, h.sport);
  put16(p, ip + 2, h.dport);
  size_t data = ip + (h.proto == 6 ? 20 : 8);
  for (size_t i = 0; i < payload; ++i) p[data + i] = static_cast<uint8_t>(i * 7 + 3);
  size_t csum = ip + (h.proto == 6 ? 16 : 6);
  if (h.proto == 6) {
    put16(p, ip + 4, h.seq >> 16);
    put16(p, ip + 6, h.seq);
    put16(p, ip + 8, h.ack >> 16);
    put16(p, ip + 10, h.ack);
    p[ip + 12] = 0x50;
    p[ip + 13] = h.flags;
    put16(p, ip + 14, h.window);
  } else {
    put16(p, ip + 4, static_cast<uint32_t>(l4_len));
  }
  auto b = pseudo_and_segment(p, ip, l4_len);
  uint32_t c = ~ones_sum(b.data(), b.size()) & 0xffff;
  if (h.proto == 17 && c == 0) c = 0xffff;
  put16(p, csum, c);
  return p;
}

}  // namespace drover::divert_test
