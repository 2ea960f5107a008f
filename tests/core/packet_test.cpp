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
  EXPECT_FALSE(recompute_checksums(p.data(), p.size()).ok()) << "v6 rewrite is not supported";
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
