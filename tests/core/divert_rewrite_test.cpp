#include "core/divert_rewrite.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/core/divert_packets.hpp"

using namespace drover;
using namespace drover::divert;
using namespace drover::divert_test;

namespace {

const addr4 client4 = {10, 0, 0, 2}, server4 = {93, 184, 216, 34};
const addr6 client6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const addr6 server6 = {0x26, 0x06, 0x28, 0, 0x02, 0x20, 0, 1, 0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46};
constexpr uint16_t cport = 50123, sport = 443, lport = 34567;

}  // namespace

// The reflect technique both ways, v4 and v6, TCP with and without payload
// (odd length too) and UDP: each result must equal, byte for byte, the
// packet built from scratch with the test's own checksum code.
TEST(divert_rewrite, reflect_round_trip_equals_reference_packets) {
  struct row {
    const char* what;
    bool v6;
    uint8_t proto;
    size_t payload;
  };
  const row rows[] = {
      {"v4 SYN", false, 6, 0},          {"v4 TCP 1460", false, 6, 1460}, {"v4 TCP odd", false, 6, 7},
      {"v4 UDP 1472", false, 17, 1472}, {"v6 SYN", true, 6, 0},          {"v6 TCP 1440", true, 6, 1440},
      {"v6 TCP odd", true, 6, 333},     {"v6 UDP", true, 17, 100},
  };
  for (const auto& r : rows) {
    hdr c{r.v6, r.proto, client4, server4, client6, server6, cport, sport};
    auto orig = build(c, r.payload);
    ASSERT_TRUE(reference_checksums_ok(orig)) << r.what;

    // App -> original destination, reflected to the listener: S:cp -> C:L.
    auto pkt = orig;
    ASSERT_TRUE(reflect_to_listener(pkt.data(), pkt.size(), lport).ok()) << r.what;
    EXPECT_EQ(pkt, build(c.mirrored().with_ports(cport, lport), r.payload)) << r.what;

    // The listener's reply C:L -> S:cp, reflected back: S:sp -> C:cp.
    auto reply = build(c.with_ports(lport, cport), r.payload);
    ASSERT_TRUE(reflect_from_listener(reply.data(), reply.size(), sport).ok()) << r.what;
    auto expect = build(c.mirrored(), r.payload);
    EXPECT_EQ(reply, expect) << r.what << ": the app sees its original destination answer";
    EXPECT_TRUE(reference_checksums_ok(reply)) << r.what;
  }
}

TEST(divert_rewrite, reflect_writes_full_checksums_over_partial_ones) {
  // With checksum offload a capture's TCP checksum field holds only the
  // pseudo-header sum (or anything): the rewrite must not patch it
  // incrementally but compute it afresh.
  for (bool v6 : {false, true}) {
    hdr c{v6, 6, client4, server4, client6, server6, cport, sport};
    auto pkt = build(c, 1000);
    size_t l4 = v6 ? 40 : 20;
    pkt[l4 + 16] ^= 0x5a;
    pkt[l4 + 17] ^= 0xa5;
    if (!v6) pkt[10] ^= 0x11;
    ASSERT_FALSE(reference_checksums_ok(pkt)) << "the reference sees the damage";
    ASSERT_TRUE(reflect_to_listener(pkt.data(), pkt.size(), lport).ok());
    EXPECT_TRUE(reference_checksums_ok(pkt)) << (v6 ? "v6" : "v4");
  }
}

TEST(divert_rewrite, refuses_truncated_and_garbage_without_touching_it) {
  for (bool v6 : {false, true}) {
    auto good = build(hdr{v6, 6, client4, server4, client6, server6, cport, sport}, 40);
    for (size_t n = 0; n < good.size(); ++n) {
      // Exactly n bytes on the heap: a read past them is a sanitizer error.
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      auto before = cut;
      uint8_t out[rst_max_len];
      EXPECT_FALSE(reflect_to_listener(cut.data(), cut.size(), lport).ok()) << n;
      EXPECT_FALSE(reflect_from_listener(cut.data(), cut.size(), sport).ok()) << n;
      EXPECT_FALSE(make_rst(cut.data(), cut.size(), out, sizeof out).ok()) << n;
      EXPECT_EQ(cut, before) << "a refused packet is left as it was (" << n << " bytes)";
    }
  }
  const std::vector<std::vector<uint8_t>> garbage = {
      {},
      {0x45},
      std::vector<uint8_t>(24, 0x00),  // version 0
      std::vector<uint8_t>(60, 0xff),  // version 15
  };
  for (auto g : garbage) {
    EXPECT_FALSE(reflect_to_listener(g.data(), g.size(), lport).ok());
    EXPECT_EQ(classify(g.data(), g.size(), port_table{}, lport).r, route::drop);
  }
  EXPECT_FALSE(reflect_to_listener(nullptr, 0, lport).ok());
}

TEST(divert_rewrite, survives_random_mutations) {
  // A fuzzer's mindset in a unit test: flipped bytes anywhere, lengths that
  // lie. Whatever succeeds must leave a packet that parses.
  std::mt19937 rng(14);
  port_table t;
  for (int i = 0; i < 20000; ++i) {
    bool v6 = i & 1;
    auto pkt = build(hdr{v6, static_cast<uint8_t>(i & 2 ? 17 : 6), client4, server4, client6, server6, cport, sport},
                     rng() % 64);
    for (unsigned k = 0, flips = 1 + rng() % 4; k < flips; ++k) pkt[rng() % pkt.size()] = static_cast<uint8_t>(rng());
    pkt.resize(pkt.size() - rng() % 3);
    uint8_t out[rst_max_len];
    (void)classify(pkt.data(), pkt.size(), t, lport);
    auto rst = make_rst(pkt.data(), pkt.size(), out, sizeof out);
    EXPECT_TRUE(!rst.ok() || packet::parse(out, *rst).ok());
    size_t l4 = 0, l4_len = 0;
    bool plain = layout(pkt, l4, l4_len);  // no IPv6 extension header: the reference can check it
    EXPECT_TRUE(!reflect_to_listener(pkt.data(), pkt.size(), lport).ok() || !plain || reference_checksums_ok(pkt));
  }
}

TEST(divert_rewrite, rst_answers_a_syn_per_rfc793) {
  for (bool v6 : {false, true}) {
    hdr syn{v6, 6, client4, server4, client6, server6, cport, sport};
    syn.seq = 0x12345678;
    syn.flags = packet::tcp_syn;
    auto seg = build(syn, 0);
    uint8_t out[rst_max_len];
    auto n = make_rst(seg.data(), seg.size(), out, sizeof out);
    ASSERT_TRUE(n.ok()) << n.err().message;
    hdr expect = syn.mirrored();
    expect.seq = 0;
    expect.ack = 0x12345679;
    expect.flags = packet::tcp_rst | packet::tcp_ack;
    expect.window = 0;
    EXPECT_EQ(std::vector<uint8_t>(out, out + *n), build(expect, 0)) << (v6 ? "v6" : "v4");
    EXPECT_EQ(*n, v6 ? 60u : 40u);
  }
}

TEST(divert_rewrite, rst_seq_and_ack_table) {
  struct row {
    const char* what;
    uint8_t flags;
    uint32_t seq, ack;
    size_t payload;
    uint32_t rst_seq, rst_ack;
    uint8_t rst_flags;
  };
  const uint8_t ra = packet::tcp_rst | packet::tcp_ack;
  const row rows[] = {
      {"SYN at the end of sequence space", packet::tcp_syn, 0xffffffff, 0, 0, 0, 0, ra},
      {"ACK with data: seq from its ack", packet::tcp_ack | 0x08, 1000, 777, 100, 777, 0, packet::tcp_rst},
      {"bare ACK", packet::tcp_ack, 5, 9, 0, 9, 0, packet::tcp_rst},
      {"FIN without ACK with data", packet::tcp_fin, 100, 0, 10, 0, 111, ra},
      {"data without ACK", 0x08, 100, 0, 10, 0, 110, ra},
  };
  for (const auto& r : rows) {
    hdr h{false, 6, client4, server4, client6, server6, cport, sport};
    h.flags = r.flags;
    h.seq = r.seq;
    h.ack = r.ack;
    auto seg = build(h, r.payload);
    uint8_t out[rst_max_len];
    auto n = make_rst(seg.data(), seg.size(), out, sizeof out);
    ASSERT_TRUE(n.ok()) << r.what;
    hdr e = h.mirrored();
    e.flags = r.rst_flags;
    e.seq = r.rst_seq;
    e.ack = r.rst_ack;
    e.window = 0;
    EXPECT_EQ(std::vector<uint8_t>(out, out + *n), build(e, 0)) << r.what;
  }
}

TEST(divert_rewrite, rst_refusals) {
  uint8_t out[rst_max_len];
  hdr h{false, 6, client4, server4, client6, server6, cport, sport};
  h.flags = packet::tcp_rst | packet::tcp_ack;
  auto rst = build(h, 0);
  EXPECT_EQ(make_rst(rst.data(), rst.size(), out, sizeof out).err().code, "is_rst");
  auto udp = build(hdr{false, 17, client4, server4, client6, server6, cport, sport}, 4);
  EXPECT_FALSE(make_rst(udp.data(), udp.size(), out, sizeof out).ok());
  auto syn = build(hdr{true, 6, client4, server4, client6, server6, cport, sport}, 0);
  EXPECT_FALSE(make_rst(syn.data(), syn.size(), out, 59).ok()) << "60 bytes needed for v6";
  EXPECT_FALSE(make_rst(syn.data(), syn.size(), nullptr, 0).ok());
}

TEST(divert_rewrite, udp_reply_v6_has_its_mandatory_checksum) {
  const std::vector<uint8_t> payload = {3, 10, 17, 24, 31};  // build()'s pattern
  uint8_t out[128];
  auto n = make_udp_reply(endpoint::v6(server6, 3478), endpoint::v6(client6, cport), payload.data(), payload.size(),
                          out, sizeof out);
  ASSERT_TRUE(n.ok()) << n.err().message;
  std::vector<uint8_t> got(out, out + *n);
  EXPECT_EQ(got.size(), 40u + 8 + payload.size());
  EXPECT_TRUE(reference_checksums_ok(got));
  EXPECT_NE(get16(got, 46), 0u) << "IPv6 UDP checksum is mandatory";
  auto expect = build(hdr{true, 17, client4, server4, server6, client6, 3478, cport}, payload.size());
  EXPECT_EQ(got, expect);
  auto v = packet::parse(out, *n);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(source_of(*v), endpoint::v6(server6, 3478));
  EXPECT_EQ(destination_of(*v), endpoint::v6(client6, cport));
  EXPECT_EQ(packet::make_udp_v6(server6, 3478, client6, cport, payload.data(), payload.size()), expect);
}

TEST(divert_rewrite, udp_reply_v4_and_refusals) {
  const uint8_t payload[] = {1, 2, 3};
  uint8_t out[64];
  auto n =
      make_udp_reply(endpoint::v4(server4, 53), endpoint::v4(client4, cport), payload, sizeof payload, out, sizeof out);
  ASSERT_TRUE(n.ok());
  std::vector<uint8_t> got(out, out + *n);
  EXPECT_EQ(got.size(), 31u);
  EXPECT_TRUE(reference_checksums_ok(got));
  auto v = packet::parse(out, *n);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(source_of(*v), endpoint::v4(server4, 53));
  EXPECT_EQ(destination_of(*v), endpoint::v4(client4, cport));
  EXPECT_FALSE(make_udp_reply(endpoint::v4(server4, 53), endpoint::v6(client6, 1), payload, 3, out, sizeof out).ok());
  EXPECT_FALSE(make_udp_reply(endpoint::name("x", 53), endpoint::name("y", 1), payload, 3, out, sizeof out).ok());
  EXPECT_FALSE(make_udp_reply(endpoint::v4(server4, 53), endpoint::v4(client4, 1), payload, 3, out, 30).ok());
  // The payload already in place after the headers; 65,508 bytes are one too many for IPv4's total length.
  std::vector<uint8_t> big(0x10000 + 64, 0x77);
  auto e = endpoint::v4(client4, 1);
  EXPECT_FALSE(make_udp_reply(e, e, big.data() + 28, 0xffff - 28 + 1, big.data(), big.size()).ok());
  ASSERT_TRUE(make_udp_reply(e, e, big.data() + 28, 0xffff - 28, big.data(), big.size()).ok());
  EXPECT_TRUE(reference_checksums_ok(std::vector<uint8_t>(big.begin(), big.begin() + 0xffff)));
}

TEST(divert_rewrite, udp_checksum_zero_is_sent_as_ffff) {
  // A payload word chosen so that the sum is 0xffff: the computed checksum
  // is 0, which UDP must send as 0xffff (0 means "none"; illegal in IPv6).
  for (bool v6 : {false, true}) {
    hdr h{v6, 17, server4, client4, server6, client6, 3478, cport};
    auto probe = build(h, 2);
    size_t l4 = v6 ? 40 : 20;
    probe[l4 + 6] = probe[l4 + 7] = probe[l4 + 8] = probe[l4 + 9] = 0;
    auto b = pseudo_and_segment(probe, l4, 10);
    uint32_t word = 0xffff - ones_sum(b.data(), b.size());
    const uint8_t payload[] = {static_cast<uint8_t>(word >> 8), static_cast<uint8_t>(word)};
    uint8_t out[64];
    auto from = v6 ? endpoint::v6(server6, 3478) : endpoint::v4(server4, 3478);
    auto to = v6 ? endpoint::v6(client6, cport) : endpoint::v4(client4, cport);
    auto n = make_udp_reply(from, to, payload, 2, out, sizeof out);
    ASSERT_TRUE(n.ok());
    std::vector<uint8_t> got(out, out + *n);
    EXPECT_EQ(get16(got, l4 + 6), 0xffffu) << (v6 ? "v6" : "v4");
    EXPECT_TRUE(reference_checksums_ok(got));
  }
}

TEST(divert_rewrite, classify_table) {
  port_table t;
  using packet::ip_version;
  t.set(ip_version::v4, flow_proto::tcp, 1000, {verdict::direct, 0});
  t.set(ip_version::v4, flow_proto::tcp, 1001, {verdict::redirect_tcp, 443});
  t.set(ip_version::v4, flow_proto::udp, 1002, {verdict::redirect_udp, 0});
  t.set(ip_version::v4, flow_proto::tcp, 1003, {verdict::refuse, 0});
  t.set(ip_version::v6, flow_proto::tcp, 1004, {verdict::refuse, 0});
  t.set(ip_version::v4, flow_proto::udp, 1005, {verdict::redirect_tcp, 80});  // never for UDP: refused
  struct row {
    const char* what;
    bool v6;
    uint8_t proto;
    uint16_t sport, dport;
    route r;
    uint16_t orig_port;
  };
  const row rows[] = {
      {"undecided", false, 6, 999, 443, route::decide, 0},
      {"decided direct", false, 6, 1000, 443, route::reinject, 0},
      {"redirected TCP", false, 6, 1001, 443, route::to_listener, 443},
      {"listener to redirected client", false, 6, lport, 1001, route::from_listener, 443},
      {"listener to a direct port", false, 6, lport, 1000, route::drop, 0},
      {"listener to an unknown port", false, 6, lport, 999, route::drop, 0},
      {"listener port as UDP source", false, 17, lport, 1001, route::decide, 0},
      {"redirected UDP", false, 17, 1002, 3478, route::take_udp, 0},
      {"refused TCP", false, 6, 1003, 443, route::refuse, 0},
      {"v4 decision, v6 packet", true, 6, 1001, 443, route::decide, 0},
      {"v6 refused", true, 6, 1004, 443, route::refuse, 0},
      {"same port, other protocol", false, 17, 1001, 443, route::decide, 0},
      {"TCP verdict on a UDP port", false, 17, 1005, 80, route::refuse, 80},
  };
  for (const auto& r : rows) {
    auto pkt = build(hdr{r.v6, r.proto, client4, server4, client6, server6, r.sport, r.dport}, 1200);
    auto c = classify(pkt.data(), pkt.size(), t, lport);
    EXPECT_EQ(c.r, r.r) << r.what << ": got " << to_string(c.r);
    EXPECT_EQ(c.orig_port, r.orig_port) << r.what;
    EXPECT_EQ(c.v.src_port, r.sport) << r.what;
  }
  t.clear(ip_version::v4, flow_proto::tcp, 1000);
  auto pkt = build(hdr{false, 6, client4, server4, client6, server6, 1000, 443}, 0);
  EXPECT_EQ(classify(pkt.data(), pkt.size(), t, lport).r, route::decide) << "a closed socket's port is decided afresh";
  t.clear_all();
  EXPECT_FALSE(t.find(ip_version::v4, flow_proto::tcp, 1001).has_value());
}
