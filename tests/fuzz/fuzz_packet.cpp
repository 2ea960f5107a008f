// libFuzzer target: the packet parser and the rewrite paths on hostile input.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/divert_rewrite.hpp"
#include "core/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drover::packet;
  auto v = parse(data, size);
  std::vector<uint8_t> copy(data, data + size);
  if (v.ok()) {
    (void)addr_to_string(*v, true);
    if (v->payload_offset > size || v->payload_offset + v->payload_len > size) __builtin_trap();
  }
  // The capture's header-only copies: whatever parses must stay inside
  // what was captured.
  auto h = parse_headers(data, size);
  if (h.ok() && (h->payload_offset > size || h->payload_offset + h->payload_len > size || h->l4_offset > size))
    __builtin_trap();
  if (v.ok() && (!h.ok() || h->src_port != v->src_port || h->dst_port != v->dst_port)) __builtin_trap();
  (void)recompute_checksums(copy.data(), copy.size());
  (void)reflect_v4(copy.data(), copy.size(), 1234);
  (void)rewrite_v4(copy.data(), copy.size(), {127, 0, 0, 1}, 1, {10, 0, 0, 1}, 2);
  // The Windows capture's per-packet paths: each stays inside its buffers.
  static drover::port_table table;
  (void)drover::divert::classify(data, size, table, 4000);
  std::vector<uint8_t> w(data, data + size);
  (void)drover::divert::reflect_to_listener(w.data(), w.size(), 4000);
  (void)drover::divert::reflect_from_listener(w.data(), w.size(), 443);
  uint8_t rst[drover::divert::rst_max_len];
  auto r = drover::divert::make_rst(data, size, rst, sizeof rst);
  if (r.ok() && *r > sizeof rst) __builtin_trap();
  if (v.ok()) {
    uint8_t reply[2048];
    auto from = drover::divert::destination_of(*v), to = drover::divert::source_of(*v);
    auto n = drover::divert::make_udp_reply(from, to, data + v->payload_offset, std::min<size_t>(v->payload_len, 1500),
                                            reply, sizeof reply);
    if (n.ok() && *n > sizeof reply) __builtin_trap();
  }
  return 0;
}
