#include "core/packet.hpp"

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
status parse_l4(const uint8_t* data, view& v) {
  const uint8_t* l4 = data + v.l4_offset;
  if (v.proto == l4_proto::tcp) {
    if (v.l4_len < 20) return bad("TCP header truncated");
    size_t off = static_cast<size_t>(l4[12] >> 4) * 4;
    if (off < 20 || off > v.l4_len) return bad("TCP data offset out of bounds");
    v.src_port = rd16(l4);
    v.dst_port = rd16(l4 + 2);
    v.tcp_flags = l4[13];
    v.payload_offset = v.l4_offset + off;
    v.payload_len = v.l4_len - off;
  } else if (v.proto == l4_proto::udp) {
    if (v.l4_len < 8) return bad("UDP header truncated");
    size_t ulen = rd16(l4 + 4);
    // GSO super-packets may carry a UDP length of 0 or one segment's size;
    // only a length larger than what we hold is a lie.
    if (ulen != 0 && (ulen < 8 || ulen > v.l4_len)) return bad("UDP length out of bounds");
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

result<view> parse(const uint8_t* data, size_t len) {
  view v;
  if (data == nullptr || len < 1) return bad("empty packet");
  uint8_t ver = data[0] >> 4;
  if (ver == 4) {
    if (len < 20) return bad("IPv4 header truncated");
    v.version = ip_version::v4;
    v.ip_header_len = static_cast<size_t>(data[0] & 0x0f) * 4;
    if (v.ip_header_len < 20 || v.ip_header_len > len) return bad("IPv4 IHL out of bounds");
    size_t tot = rd16(data + 2);
    // GSO packets may carry total length 0; otherwise it must fit the buffer.
    if (tot == 0) tot = len;
    if (tot < v.ip_header_len || tot > len) return bad("IPv4 total length out of bounds");
    v.total_len = tot;
    std::memcpy(v.src.data(), data + 12, 4);
    std::memcpy(v.dst.data(), data + 16, 4);
    uint16_t frag = rd16(data + 6);
    bool later_fragment = (frag & 0x1fff) != 0;
    uint8_t p = data[9];
    v.l4_offset = v.ip_header_len;
    v.l4_len = tot - v.ip_header_len;
    if (later_fragment) return v;  // no transport header here
    if (p == 6) v.proto = l4_proto::tcp;
    if (p == 17) v.proto = l4_proto::udp;
  } else if (ver == 6) {
    if (len < 40) return bad("IPv6 header truncated");
    v.version = ip_version::v6;
    v.ip_header_len = 40;
    size_t plen = rd16(data + 4);
    if (plen == 0) plen = len - 40;  // jumbogram / GSO
    if (40 + plen > len) return bad("IPv6 payload length out of bounds");
    v.total_len = 40 + plen;
    std::memcpy(v.src.data(), data + 8, 16);
    std::memcpy(v.dst.data(), data + 24, 16);
    v.l4_offset = 40;
    v.l4_len = plen;
    if (data[6] == 6) v.proto = l4_proto::tcp;
    if (data[6] == 17) v.proto = l4_proto::udp;
  } else {
    return bad("not an IP packet");
  }
  auto st = parse_l4(data, v);
  if (!st) return st.err();
  return v;
}

status recompute_checksums(uint8_t* data, size_t len) {
  auto pv = parse(data, len);
  if (!pv) return pv.err();
  const view& v = *pv;
  if (v.version != ip_version::v4) return make_error("unsupported", "checksums: IPv4 only");
  if (rd16(data + 2) == 0) wr16(data + 2, static_cast<uint16_t>(v.total_len));
  wr16(data + 10, 0);
  wr16(data + 10, static_cast<uint16_t>(~fold(sum16(data, v.ip_header_len))));
  if (v.proto == l4_proto::other) return ok();
  uint8_t* l4 = data + v.l4_offset;
  size_t csum_off = v.proto == l4_proto::tcp ? 16 : 6;
  if (v.proto == l4_proto::udp) wr16(l4 + 4, static_cast<uint16_t>(v.l4_len));
  wr16(l4 + csum_off, 0);
  uint32_t acc = sum16(data + 12, 8);  // pseudo header: src + dst
  acc += static_cast<uint32_t>(v.proto == l4_proto::tcp ? 6 : 17);
  acc += static_cast<uint32_t>(v.l4_len);
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

std::vector<uint8_t> make_udp_v4(const ipv4_addr& src, uint16_t src_port, const ipv4_addr& dst, uint16_t dst_port,
                                 const uint8_t* payload, size_t payload_len, uint16_t ip_id) {
  size_t total = 28 + payload_len;
  if (total > 0xffff) return {};
  std::vector<uint8_t> p(total, 0);
  p[0] = 0x45;
  wr16(&p[2], static_cast<uint16_t>(total));
  wr16(&p[4], ip_id);
  wr16(&p[6], 0x4000);  // DF
  p[8] = 64;
  p[9] = 17;
  std::memcpy(&p[12], src.data(), 4);
  std::memcpy(&p[16], dst.data(), 4);
  wr16(&p[20], src_port);
  wr16(&p[22], dst_port);
  wr16(&p[24], static_cast<uint16_t>(8 + payload_len));
  if (payload_len > 0) std::memcpy(&p[28], payload, payload_len);
  recompute_checksums(p.data(), p.size());
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
