// The double's WinDivertHelperCompileFilter (the 2.2 grammar: what the real
// DLL rejects must fail here too) and WinDivertHelperCalcChecksums (checked
// against a published header and by re-summing).
#include "core/filter.hpp"
#include "tests/windows/windivert_double/double_test_util.hpp"

using namespace double_test;

namespace {

struct outcome {
  bool ok;
  std::string why;
  unsigned pos;
};

outcome compile(const char* f, wd::layer l = wd::layer_network) {
  const char* why = nullptr;
  unsigned pos = 12345;
  bool ok = dll().compile_filter(f, l, nullptr, 0, &why, &pos) != 0;
  return {ok, why ? why : "", pos};
}

class WinDivertDoubleHelpers : public double_fixture {};

// What core/filter builds for an upstream, an extra CIDR and multicast (the
// inputs of tests/core/filter_test.cpp), and variations on it.
TEST_F(WinDivertDoubleHelpers, AcceptsTheFiltersDroverBuilds) {
  drover::filter::inputs in;
  in.upstream = {*drover::parse_ip("95.165.72.59", 12334)};
  in.extra_skip = {*drover::parse_cidr("10.0.0.0/8")};
  auto built = drover::filter::windivert(in);
  ASSERT_TRUE(built.ok()) << built.err().message;
  const char* drover = built->c_str();
  auto r = compile(drover);
  EXPECT_TRUE(r.ok) << r.why << " at " << r.pos;
  for (const char* f : {"true", "false", "(ip ? (true) : (true))", "tcp && !loopback || udp.DstPort == 53",
                        "not tcp.Syn", "ipv6.DstAddr == ::1", "tcp.Payload[-2b] == 0x1F and packet32[3] = 7",
                        "ip.TTL >= 1 and ip.TTL <= 0xff", "ifIdx == 4 and subIfIdx != 0", "protocol == UDP"}) {
    auto x = compile(f);
    EXPECT_TRUE(x.ok) << f << ": " << x.why << " at " << x.pos;
  }
  for (const char* f : {"processId == 4242 and (event == CONNECT or event == BIND or event == CLOSE)",
                        "tcp and remotePort == 443 and localAddr == 198.18.0.1", "!loopback and outbound"}) {
    auto x = compile(f, wd::layer_socket);
    EXPECT_TRUE(x.ok) << f << ": " << x.why << " at " << x.pos;
  }
}

TEST_F(WinDivertDoubleHelpers, RejectsWhatTheGrammarDoesNotAllowAtItsPosition) {
  struct bad {
    const char* filter;
    wd::layer l;
    const char* why;
    unsigned pos;
  };
  const char* parse = "Filter expression parse error";
  const char* token = "Filter expression contains a bad token";
  const char* layer = "Filter expression contains a bad token for layer";
  for (bad b : {
           bad{"outbound and not (tcp or udp)", wd::layer_network, parse, 17},  // `not` before a parenthesis
           bad{"outbound and !(ip.DstAddr == 1.2.3.4)", wd::layer_network, parse, 14},
           bad{"(tcp or udp", wd::layer_network, parse, 11},  // unbalanced: at the end
           bad{"tcp or udp)", wd::layer_network, parse, 10},
           bad{"ip ? tcp : udp", wd::layer_network, parse, 3},  // the ternary needs its parentheses
           bad{"(ip ? tcp udp)", wd::layer_network, parse, 10},
           bad{"tcp and", wd::layer_network, parse, 7},
           bad{"tcp.DstPort ==", wd::layer_network, parse, 14},
           bad{"tcp.DstPort == tcp", wd::layer_network, parse, 15},
           bad{"tcp.Bogus == 1", wd::layer_network, token, 0},
           bad{"tcp & udp", wd::layer_network, token, 5},
           bad{"ip.DstAddr == 1.2.3", wd::layer_network, token, 14},
           bad{"outbound and processId == 7", wd::layer_network, layer, 13},  // not at the NETWORK layer
           bad{"tcp.DstPort == 80", wd::layer_socket, layer, 0},
           bad{"event == CONNECT", wd::layer_network, parse, 9},  // a SOCKET macro
           bad{"packet[1", wd::layer_network, parse, 8},
       }) {
    auto r = compile(b.filter, b.l);
    EXPECT_FALSE(r.ok) << b.filter;
    EXPECT_EQ(r.why, b.why) << b.filter;
    EXPECT_EQ(r.pos, b.pos) << b.filter;
  }
  std::string many = "tcp.DstPort == 1";
  for (int i = 2; i <= 257; ++i) many += " or tcp.DstPort == " + std::to_string(i);
  auto r = compile(many.c_str());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why, "Filter expression too long");
}

TEST_F(WinDivertDoubleHelpers, TheCompiledObjectOpensLikeItsText) {
  char object[64];
  ASSERT_TRUE(dll().compile_filter("outbound and tcp", wd::layer_network, object, sizeof object, nullptr, nullptr));
  EXPECT_EQ(object[0], '@');
  char tiny[4];
  const char* why = nullptr;
  EXPECT_FALSE(dll().compile_filter("outbound and tcp", wd::layer_network, tiny, sizeof tiny, &why, nullptr));
  EXPECT_STREQ(why, "Filter object buffer is too short");
  void* h = dll().open(object, wd::layer_network, 0, 0);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  EXPECT_EQ(get(L"open-1.txt").substr(0, 24), "filter=outbound and tcp\n");
  dll().close(h);
}

// The ones' complement sum of `len` bytes folded: 0xFFFF when a checksum
// inside is right.
uint16_t folded(const uint8_t* p, size_t len, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < len; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) acc += static_cast<uint32_t>(p[len - 1]) << 8;
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

uint32_t pseudo(const uint8_t* p, bool v6, uint8_t proto, size_t l4_len) {
  uint32_t acc = v6 ? folded(p + 8, 32) : folded(p + 12, 8);
  return acc + proto + static_cast<uint32_t>(l4_len);
}

TEST_F(WinDivertDoubleHelpers, ChecksumsIpv4HeaderLikeThePublishedExample) {
  // The IPv4 header of the classic example (checksum 0xb861), carrying 95 bytes.
  uint8_t pkt[0x73] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  pkt[20] = 0x13, pkt[21] = 0x88, pkt[24] = 0, pkt[25] = 0x73 - 20;  // UDP 5000 -> 0, length 95
  wd::address a{};
  ASSERT_TRUE(dll().calc_checksums(pkt, sizeof pkt, &a, 0));
  EXPECT_EQ(pkt[10], 0xb8);
  EXPECT_EQ(pkt[11], 0x61);
  EXPECT_EQ(a.ip_checksum, 1u);
  EXPECT_EQ(a.udp_checksum, 1u);
  EXPECT_EQ(a.tcp_checksum, 0u);
}

TEST_F(WinDivertDoubleHelpers, ChecksumsUdpAndTcpOverIpv4AndIpv6) {
  for (bool v6 : {false, true}) {
    std::string u = udp_packet(v6, "a datagram of odd length");
    auto* b = reinterpret_cast<uint8_t*>(&u[0]);
    size_t hl = v6 ? 40 : 20;
    wd::address a{};
    ASSERT_TRUE(dll().calc_checksums(b, static_cast<unsigned>(u.size()), &a, 0)) << v6;
    EXPECT_EQ(folded(b + hl, u.size() - hl, pseudo(b, v6, 17, u.size() - hl)), 0xFFFF) << v6;
    if (!v6) {
      EXPECT_EQ(folded(b, 20), 0xFFFF);
    }
    EXPECT_EQ(a.udp_checksum, 1u);
    // The same bytes as TCP: a 20-byte header (data offset 5), SYN.
    std::string t = u;
    auto* c = reinterpret_cast<uint8_t*>(&t[0]);
    c[v6 ? 6 : 9] = 6;
    c[hl + 12] = 0x50, c[hl + 13] = 0x02;
    wd::address ta{};
    ASSERT_TRUE(dll().calc_checksums(c, static_cast<unsigned>(t.size()), &ta, 0));
    EXPECT_EQ(folded(c + hl, t.size() - hl, pseudo(c, v6, 6, t.size() - hl)), 0xFFFF) << v6;
    EXPECT_EQ(ta.tcp_checksum, 1u);
  }
}

TEST_F(WinDivertDoubleHelpers, ChecksumFlagsSkipAndBadPacketsFail) {
  std::string u = udp_packet(false, "x");
  auto* b = reinterpret_cast<uint8_t*>(&u[0]);
  wd::address a{};
  ASSERT_TRUE(dll().calc_checksums(b, static_cast<unsigned>(u.size()), &a, 1 | 16));  // NO_IP | NO_UDP
  EXPECT_EQ(b[10] | b[11] | b[26] | b[27], 0);
  EXPECT_EQ(a.ip_checksum | a.udp_checksum, 0u);
  EXPECT_FALSE(dll().calc_checksums(b, 10, &a, 0));  // shorter than its header
  b[6] = 0x20;                                       // MF: a fragment's UDP checksum cannot be computed
  EXPECT_FALSE(dll().calc_checksums(b, static_cast<unsigned>(u.size()), &a, 0));
  std::string junk = "\x12\x34";
  EXPECT_FALSE(dll().calc_checksums(&junk[0], 2, nullptr, 0));
}

}  // namespace
