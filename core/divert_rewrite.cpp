#include "core/divert_rewrite.hpp"

#include <algorithm>
#include <cstring>

namespace drover::divert {
namespace {

using packet::ip_version;
using packet::l4_proto;

uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}
void wr16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void wr32(uint8_t* p, uint32_t v) {
  wr16(p, static_cast<uint16_t>(v >> 16));
  wr16(p + 2, static_cast<uint16_t>(v));
}

// Swaps the addresses (sum-neutral, but the port is not, and a capture's
// checksums may be partial with offload: so a full recompute follows).
status reflect(uint8_t* data, size_t len, size_t port_offset, uint16_t port) {
  auto pv = packet::parse(data, len);
  if (!pv) return pv.err();
  const packet::view& v = *pv;
  if (v.proto == l4_proto::other) return make_error("unsupported", "reflect: TCP/UDP only");
  bool v4 = v.version == ip_version::v4;
  size_t at = v4 ? 12 : 8, n = v4 ? 4 : 16;
  std::swap_ranges(data + at, data + at + n, data + at + n);
  wr16(data + v.l4_offset + port_offset, port);
  return packet::recompute_checksums(data, len);
}

flow_proto proto_of(const packet::view& v) { return v.proto == l4_proto::tcp ? flow_proto::tcp : flow_proto::udp; }

}  // namespace

const char* to_string(route r) {
  switch (r) {
    case route::reinject:
      return "reinject";
    case route::decide:
      return "decide";
    case route::to_listener:
      return "to_listener";
    case route::from_listener:
      return "from_listener";
    case route::take_udp:
      return "take_udp";
    case route::refuse:
      return "refuse";
    case route::drop:
      return "drop";
  }
  return "?";
}

classified classify(const uint8_t* data, size_t len, const port_table& t, uint16_t listener_port) {
  classified c;
  auto pv = packet::parse(data, len);
  if (!pv || pv->proto == l4_proto::other) return c;
  c.v = *pv;
  flow_proto p = proto_of(c.v);
  if (p == flow_proto::tcp && c.v.src_port == listener_port) {
    auto d = t.find(c.v.version, p, c.v.dst_port);
    if (d && d->v == verdict::redirect_tcp) {
      c.r = route::from_listener;
      c.orig_port = d->orig_port;
    }
    return c;
  }
  auto d = t.find(c.v.version, p, c.v.src_port);
  if (!d) {
    c.r = route::decide;
    return c;
  }
  c.orig_port = d->orig_port;
  switch (d->v) {
    case verdict::direct:
      c.r = route::reinject;
      break;
    case verdict::redirect_tcp:
      c.r = p == flow_proto::tcp ? route::to_listener : route::refuse;
      break;
    case verdict::redirect_udp:
      c.r = p == flow_proto::udp ? route::take_udp : route::refuse;
      break;
    case verdict::refuse:
      c.r = route::refuse;
      break;
  }
  return c;
}

status reflect_to_listener(uint8_t* data, size_t len, uint16_t listener_port) {
  return reflect(data, len, 2, listener_port);
}

status reflect_from_listener(uint8_t* data, size_t len, uint16_t orig_port) { return reflect(data, len, 0, orig_port); }

result<size_t> make_rst(const uint8_t* seg, size_t len, uint8_t* out, size_t cap) {
  auto pv = packet::parse(seg, len);
  if (!pv) return pv.err();
  const packet::view& v = *pv;
  if (v.proto != l4_proto::tcp) return make_error("unsupported", "RST: TCP only");
  if (v.tcp_flags & packet::tcp_rst) return make_error("is_rst", "a RST is never answered");
  bool v4 = v.version == ip_version::v4;
  size_t ip_len = v4 ? 20 : 40, total = ip_len + 20;
  if (out == nullptr || total > cap) return make_error("no_room", "RST does not fit the buffer");
  const uint8_t* tcp = seg + v.l4_offset;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = packet::tcp_rst;
  if (v.tcp_flags & packet::tcp_ack) {
    seq = rd32(tcp + 8);
  } else {
    uint32_t seg_len = static_cast<uint32_t>(v.payload_len) + ((v.tcp_flags & packet::tcp_syn) ? 1u : 0u) +
                       ((v.tcp_flags & packet::tcp_fin) ? 1u : 0u);
    ack = rd32(tcp + 4) + seg_len;  // mod 2^32, as sequence numbers are
    flags |= packet::tcp_ack;
  }
  std::memset(out, 0, total);
  if (v4) {
    out[0] = 0x45;
    wr16(out + 2, static_cast<uint16_t>(total));
    wr16(out + 6, 0x4000);  // DF
    out[8] = 64;
    out[9] = 6;
    std::memcpy(out + 12, v.dst.data(), 4);
    std::memcpy(out + 16, v.src.data(), 4);
  } else {
    out[0] = 0x60;
    wr16(out + 4, 20);
    out[6] = 6;
    out[7] = 64;
    std::memcpy(out + 8, v.dst.data(), 16);
    std::memcpy(out + 24, v.src.data(), 16);
  }
  uint8_t* rst = out + ip_len;
  wr16(rst, v.dst_port);
  wr16(rst + 2, v.src_port);
  wr32(rst + 4, seq);
  wr32(rst + 8, ack);
  rst[12] = 0x50;  // data offset 5: no options
  rst[13] = flags;
  auto st = packet::recompute_checksums(out, total);
  if (!st) return st.err();
  return total;
}

result<size_t> make_udp_reply(const endpoint& from, const endpoint& to, const uint8_t* payload, size_t payload_len,
                              uint8_t* out, size_t cap) {
  if (!from.is_ip() || from.k != to.k) return make_error("unsupported", "UDP reply: two IP endpoints of one family");
  auto version = from.k == endpoint::kind::v4 ? ip_version::v4 : ip_version::v6;
  return packet::write_udp(out, cap, version, from.ip, from.port, to.ip, to.port, payload, payload_len);
}

namespace {
endpoint endpoint_of(const packet::view& v, const std::array<uint8_t, 16>& a, uint16_t port) {
  if (v.version == ip_version::v6) return endpoint::v6(a, port);
  return endpoint::v4({a[0], a[1], a[2], a[3]}, port);
}
}  // namespace

endpoint source_of(const packet::view& v) { return endpoint_of(v, v.src, v.src_port); }
endpoint destination_of(const packet::view& v) { return endpoint_of(v, v.dst, v.dst_port); }

}  // namespace drover::divert
