#include "core/packet.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace drover::packet;

namespace {

// IPv4 TCP SYN 10.0.0.1:40000 -> 93.184.216.34:443, IHL 5, data offset 5,
// checksums valid (computed by recompute_checksums and cross-checked below).
std::vector<uint8_t> syn_packet() {
  std::vector<uint8_t> p = {
      0x45, 0x00, 0x00, 0x28,  // v4, IHL 5, total 40
      0x12, 0x34, 0x40, 0x00,  // id, DF
      0x40, 0x06, 0x00, 0x00,  // TTL 64, TCP, checksum (filled below)
      10,   0,    0,    1,     // src
      93,   184,  216,  34,    // dst
      0x9c, 0x40, 0x01, 0xbb,  // 40000 -> 443
      0,    0,    0,    1,     // seq
      0,    0,    0,    0,     // ack
      0x50, 0x02, 0xff, 0xff,  // offset 5, SYN, window
      0x00, 0x00, 0x00, 0x00,  // checksum, urgent
  };
  EXPECT_TRUE(recompute_checksums(p.data(), p.size()).ok());
  return p;
}

bool checksums_valid(const std::vector<uint8_t>& p) {
  auto v = parse(p.data(), p.size());
  if (!v) return false;
  if (fold(sum16(p.data(), v->ip_header_len)) != 0xffff) return false;
  uint32_t acc = sum16(p.data() + 12, 8) + static_cast<uint32_t>(v->proto) + static_cast<uint32_t>(v->l4_len);
  return fold(sum16(p.data() + v->l4_offset, v->l4_len, acc)) == 0xffff;
}

}  // namespace

TEST(packet, parses_tcp_syn) {
  auto p = syn_packet();
  auto v = parse(p.data(), p.size());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, ip_version::v4);
  EXPECT_EQ(v->proto, l4_proto::tcp);
  EXPECT_EQ(v->src_port, 40000);
  EXPECT_EQ(v->dst_port, 443);
  EXPECT_EQ(v->tcp_flags & tcp_syn, tcp_syn);
  EXPECT_EQ(addr_to_string(*v, false), "93.184.216.34");
  EXPECT_EQ(v->payload_len, 0u);
  EXPECT_TRUE(checksums_valid(p));
  // Known-good IPv4 header checksum for this header.
  EXPECT_EQ(p[10] << 8 | p[11], 0xe8c0);  // computed independently (Python RFC 1071)
}

TEST(packet, rejects_lying_lengths) {
  struct row {
    const char* what;
    size_t offset;
    uint8_t value;
  };
  const row rows[] = {
      {"IHL below 5", 0, 0x44},
      {"IHL beyond buffer", 0, 0x4f},
      {"total length beyond buffer", 3, 0x80},
      {"total length below header", 3, 0x10},
      {"TCP data offset beyond segment", 32, 0xf0},
      {"TCP data offset below 5", 32, 0x40},
      {"not IP", 0, 0x35},
  };
  for (auto& r : rows) {
    auto p = syn_packet();
    p[r.offset] = r.value;
    EXPECT_FALSE(parse(p.data(), p.size()).ok()) << r.what;
  }
  auto p = syn_packet();
  for (size_t n = 0; n < p.size(); ++n) EXPECT_FALSE(parse(p.data(), n).ok()) << "truncated to " << n;
}

TEST(packet, udp_length_checked) {
  auto p = make_udp_v4({1, 2, 3, 4}, 53, {5, 6, 7, 8}, 5000, reinterpret_cast<const uint8_t*>("hi"), 2);
  ASSERT_EQ(p.size(), 30u);
  EXPECT_TRUE(parse(p.data(), p.size()).ok());
  p[24] = 0x00;
  p[25] = 0x40;  // UDP length 64 > 10 available
  EXPECT_FALSE(parse(p.data(), p.size()).ok());
  p[25] = 0x04;  // UDP length 4 < 8
  EXPECT_FALSE(parse(p.data(), p.size()).ok());
}

TEST(packet, fabricated_udp_is_valid) {
  const uint8_t payload[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
  auto p = make_udp_v4({8, 8, 8, 8}, 53, {192, 168, 1, 2}, 33333, payload, sizeof payload, 7);
  auto v = parse(p.data(), p.size());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->proto, l4_proto::udp);
  EXPECT_EQ(v->src_port, 53);
  EXPECT_EQ(v->dst_port, 33333);
  EXPECT_EQ(v->payload_len, 5u);
  EXPECT_EQ(p[v->payload_offset], 0xde);
  EXPECT_TRUE(checksums_valid(p));
}

TEST(packet, rewrite_table_keeps_checksums_valid) {
  struct row {
    ipv4_addr src;
    uint16_t sport;
    ipv4_addr dst;
    uint16_t dport;
  };
  const row rows[] = {
      {{127, 0, 0, 1}, 40000, {127, 0, 0, 1}, 34567},
      {{10, 0, 0, 1}, 1, {255, 255, 255, 255}, 65535},
      {{0, 0, 0, 0}, 0, {0, 0, 0, 0}, 0},
      {{192, 168, 100, 200}, 12345, {1, 1, 1, 1}, 80},
  };
  for (auto& r : rows) {
    auto p = syn_packet();
    ASSERT_TRUE(rewrite_v4(p.data(), p.size(), r.src, r.sport, r.dst, r.dport).ok());
    auto incremental = p;
    ASSERT_TRUE(recompute_checksums(p.data(), p.size()).ok());
    EXPECT_EQ(incremental, p) << "incremental update must equal a full recompute";
    auto v = parse(p.data(), p.size());
    EXPECT_EQ(v->src_port, r.sport);
    EXPECT_EQ(v->dst_port, r.dport);
  }
}

TEST(packet, reflect_swaps_and_sets_port) {
  auto p = syn_packet();
  ASSERT_TRUE(reflect_v4(p.data(), p.size(), 5555).ok());
  auto v = parse(p.data(), p.size());
  EXPECT_EQ(addr_to_string(*v, true), "93.184.216.34");
  EXPECT_EQ(addr_to_string(*v, false), "10.0.0.1");
  EXPECT_EQ(v->src_port, 40000);
  EXPECT_EQ(v->dst_port, 5555);
  EXPECT_TRUE(checksums_valid(p));
}

TEST(packet, gso_sized_checksum) {
  // A 64 KB TCP GSO packet whose total-length field says 0 (as GSO may).
  std::vector<uint8_t> p = syn_packet();
  p.resize(65535, 0xab);
  p[2] = 0;
  p[3] = 0;
  ASSERT_TRUE(recompute_checksums(p.data(), p.size()).ok());
  EXPECT_EQ(p[2] << 8 | p[3], 65535);
  EXPECT_TRUE(checksums_valid(p));
  ASSERT_TRUE(reflect_v4(p.data(), p.size(), 1).ok());
  EXPECT_TRUE(checksums_valid(p));
}

TEST(packet, checksum_adjust_matches_rfc1624_example) {
  // RFC 1624 §4: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000 (eq. 3).
  EXPECT_EQ(checksum_adjust(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST(packet, ipv6_recognised) {
  std::vector<uint8_t> p(40 + 20, 0);
  p[0] = 0x60;
  p[5] = 20;  // payload length
  p[6] = 6;   // TCP
  p[23] = 1;  // src ::1
  p[24] = 0x20;
  p[25] = 0x01;  // dst 2001::
  p[40] = 0x9c;
  p[41] = 0x40;
  p[43] = 80;
  p[52] = 0x50;
  p[53] = tcp_syn;
  auto v = parse(p.data(), p.size());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, ip_version::v6);
  EXPECT_EQ(v->proto, l4_proto::tcp);
  EXPECT_EQ(v->dst_port, 80);
  EXPECT_EQ(addr_to_string(*v, false), "[2001:0:0:0:0:0:0:0]");
  EXPECT_TRUE(recompute_checksums(p.data(), p.size()).ok()) << "v6 checksums (divert_rewrite_test checks them)";
  p[5] = 200;
  EXPECT_FALSE(parse(p.data(), p.size()).ok());
}

TEST(packet, later_fragment_has_no_ports) {
  auto p = syn_packet();
  p[6] = 0x00;
  p[7] = 0x10;  // fragment offset 16
  auto v = parse(p.data(), p.size());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->proto, l4_proto::other);
}

namespace {

// IPv4 UDP 10.0.0.1:5000 -> 203.0.113.9:443 carrying `payload` bytes (a QUIC
// Initial is at least 1,200), as the queue holds it: only the first `keep`.
std::vector<uint8_t> udp_v4(size_t payload, size_t keep) {
  auto p = make_udp_v4({10, 0, 0, 1}, 5000, {203, 0, 113, 9}, 443, std::vector<uint8_t>(payload, 0xab).data(), payload);
  p.resize(std::min(keep, p.size()));
  return p;
}

// IPv6 fd00::1 -> fd00::2, next header `nh`, then `ext` bytes of extension
// headers, then a UDP header 6000 -> 53 and 100 bytes of payload.
std::vector<uint8_t> udp_v6(uint8_t nh, const std::vector<uint8_t>& ext) {
  std::vector<uint8_t> p(40, 0);
  p[0] = 0x60;
  size_t plen = ext.size() + 8 + 100;
  p[4] = static_cast<uint8_t>(plen >> 8);
  p[5] = static_cast<uint8_t>(plen);
  p[6] = nh;
  p[7] = 64;
  p[8] = 0xfd, p[23] = 1;   // src fd00::1
  p[24] = 0xfd, p[39] = 2;  // dst fd00::2
  // push_back, not insert: GCC 12 warns falsely on vector insert (-Warray-bounds).
  for (uint8_t b : ext) p.push_back(b);
  for (int b : {0x17, 0x70, 0x00, 0x35, 0x00, 108, 0, 0}) p.push_back(static_cast<uint8_t>(b));
  p.resize(p.size() + 100, 0x11);
  return p;
}

}  // namespace

TEST(packet, header_copy_of_a_large_datagram_parses) {
  // The queue copies 128 bytes of a 1,228-byte packet: parse() rightly
  // refuses the lie, parse_headers() sees the ports (the verdict needs them).
  auto p = udp_v4(1200, 128);
  EXPECT_FALSE(parse(p.data(), p.size()).ok());
  auto v = parse_headers(p.data(), p.size());
  ASSERT_TRUE(v.ok()) << v.err().message;
  EXPECT_TRUE(v->truncated);
  EXPECT_EQ(v->proto, l4_proto::udp);
  EXPECT_EQ(v->src_port, 5000);
  EXPECT_EQ(v->dst_port, 443);
  EXPECT_LE(v->payload_offset + v->payload_len, p.size());
}

TEST(packet, header_copy_of_a_whole_packet_is_not_truncated) {
  auto p = udp_v4(40, 128);
  auto v = parse_headers(p.data(), p.size());
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->truncated);
  EXPECT_EQ(v->payload_len, 40u);
}

TEST(packet, header_copy_cut_inside_the_headers_is_rejected) {
  // IP header alone, or IP + part of UDP: no ports, no verdict.
  for (size_t keep : {size_t{0}, size_t{10}, size_t{20}, size_t{27}}) {
    auto p = udp_v4(1200, keep);
    EXPECT_FALSE(parse_headers(p.data(), p.size()).ok()) << "kept " << keep;
  }
  auto syn = syn_packet();
  for (size_t n = 0; n < 40; ++n) EXPECT_FALSE(parse_headers(syn.data(), n).ok()) << "SYN cut to " << n;
}

TEST(packet, header_copy_still_checks_claimed_lengths) {
  // UDP length larger than the IP packet claims: a lie even in a copy.
  auto p = udp_v4(1200, 128);
  p[24] = 0x10, p[25] = 0x00;  // UDP length 4096 > 1208
  EXPECT_FALSE(parse_headers(p.data(), p.size()).ok());
  // TCP data offset beyond the claimed packet.
  auto syn = syn_packet();
  syn[32] = 0xf0;  // offset 60 > 20 bytes of TCP
  EXPECT_FALSE(parse_headers(syn.data(), syn.size()).ok());
}

TEST(packet, ipv6_extension_headers_lead_to_the_transport_header) {
  // Hop-by-hop (8 bytes: next=UDP, len 0, PadN) then UDP.
  auto hbh = udp_v6(0, {17, 0, 1, 4, 0, 0, 0, 0});
  auto v = parse(hbh.data(), hbh.size());
  ASSERT_TRUE(v.ok()) << v.err().message;
  EXPECT_EQ(v->proto, l4_proto::udp);
  EXPECT_EQ(v->l4_offset, 48u);
  EXPECT_EQ(v->src_port, 6000);
  EXPECT_EQ(v->dst_port, 53);
  // Destination options (16 bytes) then a first fragment (offset 0) then UDP.
  auto chain = udp_v6(60, {44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0x00, 0x01, 0, 0, 0, 7});
  v = parse(chain.data(), chain.size());
  ASSERT_TRUE(v.ok()) << v.err().message;
  EXPECT_EQ(v->proto, l4_proto::udp);
  EXPECT_EQ(v->dst_port, 53);
  // A later fragment carries no ports.
  auto later = udp_v6(44, {17, 0, 0x00, 0x09, 0, 0, 0, 7});
  v = parse(later.data(), later.size());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->proto, l4_proto::other);
  // An extension header that runs past the packet is a lie.
  auto bad_len = udp_v6(0, {17, 200, 1, 4, 0, 0, 0, 0});
  EXPECT_FALSE(parse(bad_len.data(), bad_len.size()).ok());
}
