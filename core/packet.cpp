#include "core/packet.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace drover::packet {
namespace {

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void wr16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

error bad(const char* what) { return make_error("bad_packet", what); }

// Fills transport fields shared by v4 and v6 once the l4 offset is known.
// `claimed` is the transport length the IP header announces; v.l4_len what
// the buffer holds of it (less only in a header-only copy).
status parse_l4(const uint8_t* data, view& v, size_t claimed) {
  const uint8_t* l4 = data + v.l4_offset;
  if (v.proto == l4_proto::tcp) {
    if (v.l4_len < 20) return bad("TCP header truncated");
    size_t off = static_cast<size_t>(l4[12] >> 4) * 4;
    if (off < 20 || off > claimed) return bad("TCP data offset out of bounds");
    v.src_port = rd16(l4);
    v.dst_port = rd16(l4 + 2);
    v.tcp_flags = l4[13];
    v.payload_offset = v.l4_offset + std::min(off, v.l4_len);
    v.payload_len = v.l4_len - std::min(off, v.l4_len);
  } else if (v.proto == l4_proto::udp) {
    if (v.l4_len < 8) return bad("UDP header truncated");
    size_t ulen = rd16(l4 + 4);
    // GSO super-packets may carry a UDP length of 0 or one segment's size;
    // only a length larger than the packet is a lie.
    if (ulen != 0 && (ulen < 8 || ulen > claimed)) return bad("UDP length out of bounds");
    v.src_port = rd16(l4);
    v.dst_port = rd16(l4 + 2);
    v.payload_offset = v.l4_offset + 8;
    v.payload_len = v.l4_len - 8;
  }
  return ok();
}

}  // namespace

uint32_t sum16(const uint8_t* data, size_t len, uint32_t acc) {
  // Wide accumulator: folding is deferred, 64 KB of words cannot overflow it.
  uint64_t s = acc;
  size_t i = 0;
  for (; i + 1 < len; i += 2) s += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < len) s += static_cast<uint32_t>(data[i] << 8);
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint16_t fold(uint32_t acc) {
  uint64_t s = acc;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

namespace {

// Walks IPv6 extension headers from `next` at `off`; sets proto/l4_offset,
// or leaves proto `other` (a later fragment, ESP, no next header, unknown).
status walk_v6(const uint8_t* data, size_t avail, view& v, uint8_t next) {
  size_t off = 40;
  for (int hops = 0; hops < 8; ++hops) {
    if (next == 6 || next == 17) {
      v.proto = next == 6 ? l4_proto::tcp : l4_proto::udp;
      v.l4_offset = off;
      return ok();
    }
    size_t hlen = 0;
    if (next == 0 || next == 43 || next == 60) {
      if (off + 2 > avail) return bad("IPv6 extension header truncated");
      hlen = (static_cast<size_t>(data[off + 1]) + 1) * 8;
    } else if (next == 44) {
      if (off + 8 > avail) return bad("IPv6 fragment header truncated");
      if ((rd16(data + off + 2) & 0xfff8) != 0) return ok();  // later fragment: no ports
      hlen = 8;
    } else if (next == 51) {
      if (off + 2 > avail) return bad("IPv6 AH truncated");
      hlen = (static_cast<size_t>(data[off + 1]) + 2) * 4;
    } else {
      return ok();  // ESP, no next header, or unknown: no ports to see
    }
    if (off + hlen > avail) return bad("IPv6 extension header out of bounds");
    next = data[off];
    off += hlen;
  }
  return bad("IPv6 extension header chain too long");
}

// One parser for whole packets and header-only copies: `claimed` lengths
// come from the IP header; with `partial` they may exceed the buffer.
result<view> parse_any(const uint8_t* data, size_t len, bool partial) {
  view v;
  if (data == nullptr || len < 1) return bad("empty packet");
  uint8_t ver = data[0] >> 4;
  size_t claimed = 0;
  if (ver == 4) {
    if (len < 20) return bad("IPv4 header truncated");
    v.version = ip_version::v4;
    v.ip_header_len = static_cast<size_t>(data[0] & 0x0f) * 4;
    if (v.ip_header_len < 20 || v.ip_header_len > len) return bad("IPv4 IHL out of bounds");
    claimed = rd16(data + 2);
    // GSO packets may carry total length 0; otherwise it must fit the buffer.
    if (claimed == 0) claimed = len;
    if (claimed < v.ip_header_len) return bad("IPv4 total length out of bounds");
    std::memcpy(v.src.data(), data + 12, 4);
    std::memcpy(v.dst.data(), data + 16, 4);
    v.l4_offset = v.ip_header_len;
    bool later_fragment = (rd16(data + 6) & 0x1fff) != 0;
    uint8_t p = data[9];
    if (!later_fragment && p == 6) v.proto = l4_proto::tcp;
    if (!later_fragment && p == 17) v.proto = l4_proto::udp;
  } else if (ver == 6) {
    if (len < 40) return bad("IPv6 header truncated");
    v.version = ip_version::v6;
    v.ip_header_len = 40;
    size_t plen = rd16(data + 4);
    if (plen == 0) plen = len - 40;  // jumbogram / GSO
    claimed = 40 + plen;
    std::memcpy(v.src.data(), data + 8, 16);
    std::memcpy(v.dst.data(), data + 24, 16);
    auto st = walk_v6(data, std::min(len, claimed), v, data[6]);
    if (!st) return st.err();
    if (v.proto == l4_proto::other) v.l4_offset = 40;
  } else {
    return bad("not an IP packet");
  }
  if (claimed > len) {
    if (!partial) return bad(ver == 4 ? "IPv4 total length out of bounds" : "IPv6 payload length out of bounds");
    v.truncated = true;
  }
  v.total_len = std::min(claimed, len);
  if (v.l4_offset > claimed) return bad("transport header beyond the packet");
  size_t claimed_l4 = claimed - v.l4_offset;
  v.l4_len = v.total_len - std::min(v.total_len, v.l4_offset);
  if (v.proto == l4_proto::other) return v;
  auto st = parse_l4(data, v, claimed_l4);
  if (!st) return st.err();
  return v;
}

}  // namespace

result<view> parse(const uint8_t* data, size_t len) { return parse_any(data, len, false); }

result<view> parse_headers(const uint8_t* data, size_t captured) { return parse_any(data, captured, true); }

status recompute_checksums(uint8_t* data, size_t len) {
  auto pv = parse(data, len);
  if (!pv) return pv.err();
  const view& v = *pv;
  bool v4 = v.version == ip_version::v4;
  if (v4) {
    if (rd16(data + 2) == 0) wr16(data + 2, static_cast<uint16_t>(v.total_len));
    wr16(data + 10, 0);
    wr16(data + 10, static_cast<uint16_t>(~fold(sum16(data, v.ip_header_len))));
  } else if (rd16(data + 4) == 0 && v.total_len - 40 <= 0xffff) {
    wr16(data + 4, static_cast<uint16_t>(v.total_len - 40));
  }
  if (v.proto == l4_proto::other) return ok();
  uint8_t* l4 = data + v.l4_offset;
  size_t csum_off = v.proto == l4_proto::tcp ? 16 : 6;
  if (v.proto == l4_proto::udp && v.l4_len <= 0xffff) wr16(l4 + 4, static_cast<uint16_t>(v.l4_len));
  wr16(l4 + csum_off, 0);
  // Pseudo header: addresses, protocol, length (32 bits for IPv6: RFC 8200).
  uint32_t acc = v4 ? sum16(data + 12, 8) : sum16(data + 8, 32);
  acc += static_cast<uint32_t>(v.proto == l4_proto::tcp ? 6 : 17);
  acc += static_cast<uint32_t>(v.l4_len >> 16) + static_cast<uint32_t>(v.l4_len & 0xffff);
  uint16_t c = static_cast<uint16_t>(~fold(sum16(l4, v.l4_len, acc)));
  if (v.proto == l4_proto::udp && c == 0) c = 0xffff;  // 0 means "no checksum" for UDP
  wr16(l4 + csum_off, c);
  return ok();
}

uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  // HC' = ~(~HC + ~m + m')
  uint32_t s = static_cast<uint16_t>(~checksum);
  s += static_cast<uint16_t>(~old_word);
  s += new_word;
  return static_cast<uint16_t>(~fold(s));
}

status rewrite_v4(uint8_t* data, size_t len, const ipv4_addr& src, uint16_t src_port, const ipv4_addr& dst,
                  uint16_t dst_port) {
  auto pv = parse(data, len);
  if (!pv) return pv.err();
  const view& v = *pv;
  if (v.version != ip_version::v4 || v.proto == l4_proto::other)
    return make_error("unsupported", "rewrite: IPv4 TCP/UDP only");
  uint8_t* l4 = data + v.l4_offset;
  size_t csum_off = v.proto == l4_proto::tcp ? 16 : 6;
  bool udp_no_csum = v.proto == l4_proto::udp && rd16(l4 + 6) == 0;
  auto patch = [&](uint8_t* field, uint16_t nw, bool pseudo) {
    uint16_t old = rd16(field);
    wr16(field, nw);
    if (pseudo) wr16(data + 10, checksum_adjust(rd16(data + 10), old, nw));
    if (!udp_no_csum) {
      uint16_t c = checksum_adjust(rd16(l4 + csum_off), old, nw);
      if (v.proto == l4_proto::udp && c == 0) c = 0xffff;
      wr16(l4 + csum_off, c);
    }
  };
  const uint8_t* s = src.data();
  const uint8_t* d = dst.data();
  patch(data + 12, rd16(s), true);
  patch(data + 14, rd16(s + 2), true);
  patch(data + 16, rd16(d), true);
  patch(data + 18, rd16(d + 2), true);
  patch(l4, src_port, false);
  patch(l4 + 2, dst_port, false);
  return ok();
}

status reflect_v4(uint8_t* data, size_t len, uint16_t new_dst_port) {
  auto pv = parse(data, len);
  if (!pv) return pv.err();
  const view& v = *pv;
  if (v.version != ip_version::v4 || v.proto == l4_proto::other)
    return make_error("unsupported", "reflect: IPv4 TCP/UDP only");
  ipv4_addr s{}, d{};
  std::memcpy(s.data(), v.src.data(), 4);
  std::memcpy(d.data(), v.dst.data(), 4);
  return rewrite_v4(data, len, d, v.src_port, s, new_dst_port);
}

result<size_t> write_udp(uint8_t* out, size_t cap, ip_version version, const ipv6_addr& src, uint16_t src_port,
                         const ipv6_addr& dst, uint16_t dst_port, const uint8_t* payload, size_t payload_len,
                         uint16_t ip_id) {
  bool v4 = version == ip_version::v4;
  if (payload_len > (v4 ? 0xffffu - 28 : 0xffffu - 8)) return bad("UDP payload too large");
  size_t ip_len = v4 ? 20 : 40, total = ip_len + 8 + payload_len;
  if (out == nullptr || total > cap) return make_error("no_room", "UDP packet does not fit the buffer");
  std::memset(out, 0, ip_len + 8);
  if (v4) {
    out[0] = 0x45;
    wr16(out + 2, static_cast<uint16_t>(total));
    wr16(out + 4, ip_id);
    wr16(out + 6, 0x4000);  // DF
    out[8] = 64;
    out[9] = 17;
    std::memcpy(out + 12, src.data(), 4);
    std::memcpy(out + 16, dst.data(), 4);
  } else {
    out[0] = 0x60;
    wr16(out + 4, static_cast<uint16_t>(8 + payload_len));
    out[6] = 17;
    out[7] = 64;
    std::memcpy(out + 8, src.data(), 16);
    std::memcpy(out + 24, dst.data(), 16);
  }
  uint8_t* udp = out + ip_len;
  wr16(udp, src_port);
  wr16(udp + 2, dst_port);
  wr16(udp + 4, static_cast<uint16_t>(8 + payload_len));
  if (payload_len > 0) std::memmove(udp + 8, payload, payload_len);
  auto st = recompute_checksums(out, total);
  return st ? result<size_t>(total) : result<size_t>(st.err());
}

std::vector<uint8_t> make_udp_v4(const ipv4_addr& src, uint16_t src_port, const ipv4_addr& dst, uint16_t dst_port,
                                 const uint8_t* payload, size_t payload_len, uint16_t ip_id) {
  ipv6_addr s{}, d{};
  std::memcpy(s.data(), src.data(), 4);
  std::memcpy(d.data(), dst.data(), 4);
  std::vector<uint8_t> p(28 + payload_len);
  if (!write_udp(p.data(), p.size(), ip_version::v4, s, src_port, d, dst_port, payload, payload_len, ip_id)) return {};
  return p;
}

std::vector<uint8_t> make_udp_v6(const ipv6_addr& src, uint16_t src_port, const ipv6_addr& dst, uint16_t dst_port,
                                 const uint8_t* payload, size_t payload_len) {
  std::vector<uint8_t> p(48 + payload_len);
  if (!write_udp(p.data(), p.size(), ip_version::v6, src, src_port, dst, dst_port, payload, payload_len)) return {};
  return p;
}

std::string addr_to_string(const view& v, bool source) {
  const auto& a = source ? v.src : v.dst;
  char buf[64];
  if (v.version == ip_version::v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    return buf;
  }
  std::string out = "[";
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", a[i] << 8 | a[i + 1]);
    out += buf;
  }
  return out + "]";
}

}  // namespace drover::packet
