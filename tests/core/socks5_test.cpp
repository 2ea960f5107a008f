#include "core/socks5.hpp"

#include "core/dns_query.hpp"

#include <gtest/gtest.h>

using namespace drover;
using namespace drover::socks5;

namespace {
using bytes = std::vector<uint8_t>;
const endpoint proxy = endpoint::v4({10, 0, 0, 2}, 1080);
const endpoint target = endpoint::v4({93, 184, 216, 34}, 443);

step feed(handshake& h, const bytes& b) { return h.feed(b.data(), b.size()); }
}  // namespace

TEST(socks5, connect_without_auth) {
  handshake h(command::connect, target, nullptr, proxy);
  EXPECT_EQ(h.start(), (bytes{0x05, 0x01, 0x00}));
  auto s = feed(h, {0x05, 0x00});  // method: no auth
  ASSERT_FALSE(s.failed);
  // CONNECT 93.184.216.34:443
  EXPECT_EQ(s.send, (bytes{0x05, 0x01, 0x00, 0x01, 93, 184, 216, 34, 0x01, 0xbb}));
  // Reply split over two reads: succeeded, BND 10.0.0.2:4000, then early data.
  s = feed(h, {0x05, 0x00, 0x00, 0x01, 10, 0});
  EXPECT_FALSE(s.done);
  s = feed(h, {0, 2, 0x0f, 0xa0, 'h', 'i'});
  ASSERT_TRUE(s.done);
  EXPECT_EQ(h.bound().to_string(), "10.0.0.2:4000");
  EXPECT_EQ(h.take_leftover(), (bytes{'h', 'i'}));
}

TEST(socks5, username_auth) {
  credentials c{"alice", "s3cret"};
  handshake h(command::udp_associate, endpoint::v4({0, 0, 0, 0}, 0), &c, proxy);
  EXPECT_EQ(h.start(), (bytes{0x05, 0x01, 0x02}));
  auto s = feed(h, {0x05, 0x02});
  EXPECT_EQ(h.current_phase(), phase::auth);
  EXPECT_EQ(s.send, (bytes{0x01, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't'}));
  s = feed(h, {0x01, 0x00});
  EXPECT_EQ(s.send[1], 0x03) << "UDP ASSOCIATE command";
  // BND.ADDR 0.0.0.0 is replaced by the proxy's own address.
  s = feed(h, {0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x9c, 0x41});
  ASSERT_TRUE(s.done);
  EXPECT_EQ(h.bound().to_string(), "10.0.0.2:40001");
}

TEST(socks5, failures_are_named) {
  credentials c{"alice", "wrong"};
  struct row {
    const char* what;
    const credentials* creds;
    command cmd;
    std::vector<bytes> replies;
    std::string code;
    std::string text;
  };
  const std::vector<row> rows = {
      {"not socks5", nullptr, command::connect, {{0x04, 0x00}}, "greeting", "not a SOCKS5 proxy"},
      {"auth required", nullptr, command::connect, {{0x05, 0xff}}, "greeting", "requires authentication"},
      {"bad password", &c, command::connect, {{0x05, 0x02}, {0x01, 0x01}}, "auth", "authentication failed"},
      {"udp unsupported",
       nullptr,
       command::udp_associate,
       {{0x05, 0x00}, {0x05, 0x07, 0x00, 0x01, 0, 0, 0, 0, 0, 0}},
       "request",
       "does not support UDP ASSOCIATE"},
      {"refused",
       nullptr,
       command::connect,
       {{0x05, 0x00}, {0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0}},
       "request",
       "connection refused"},
      {"ruleset",
       nullptr,
       command::connect,
       {{0x05, 0x00}, {0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0}},
       "request",
       "not allowed"},
      {"bad atyp",
       nullptr,
       command::connect,
       {{0x05, 0x00}, {0x05, 0x00, 0x00, 0x09, 0, 0, 0, 0, 0, 0}},
       "request",
       "unknown address type"},
  };
  for (auto& r : rows) {
    handshake h(r.cmd, target, r.creds, proxy);
    h.start();
    step s;
    for (auto& b : r.replies) s = feed(h, b);
    ASSERT_TRUE(s.failed) << r.what;
    EXPECT_EQ(s.failure.code, r.code) << r.what;
    EXPECT_NE(s.failure.message.find(r.text), std::string::npos) << r.what << ": " << s.failure.message;
    EXPECT_EQ(s.failure.message.find("wrong"), std::string::npos) << "password leaked";
  }
  for (uint8_t rep = 1; rep <= 9; ++rep) EXPECT_FALSE(reply_message(rep).empty());
}

TEST(socks5, reply_atyp_domain_and_v6) {
  handshake h(command::connect, endpoint::name("example.org", 80), nullptr, proxy);
  h.start();
  auto s = feed(h, {0x05, 0x00});
  EXPECT_EQ(s.send[3], 0x03);
  EXPECT_EQ(s.send[4], 11);
  s = feed(h, {0x05, 0x00, 0x00, 0x03, 4, 'p', 'r', 'x', 'y', 0x00, 0x50});
  ASSERT_TRUE(s.done);
  EXPECT_EQ(h.bound().to_string(), "prxy:80");

  handshake h6(command::connect, target, nullptr, proxy);
  h6.start();
  feed(h6, {0x05, 0x00});
  bytes r6 = {0x05, 0x00, 0x00, 0x04};
  for (int i = 0; i < 15; ++i) r6.push_back(0);
  r6.push_back(1);
  r6.push_back(0);
  r6.push_back(22);
  s = feed(h6, r6);
  ASSERT_TRUE(s.done);
  EXPECT_EQ(h6.bound().to_string(), "[0:0:0:0:0:0:0:1]:22");
}

TEST(socks5, udp_roundtrip_and_frag) {
  const bytes payload = {1, 2, 3};
  auto enc = udp_encapsulate(target, payload.data(), payload.size());
  // RSV RSV FRAG ATYP=1 93.184.216.34 :443 payload
  EXPECT_EQ(enc, (bytes{0, 0, 0, 1, 93, 184, 216, 34, 0x01, 0xbb, 1, 2, 3}));
  auto d = udp_decapsulate(enc.data(), enc.size());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->source, target);
  EXPECT_EQ(d->payload_offset, 10u);
  EXPECT_EQ(d->payload_len, 3u);
  enc[2] = 1;
  auto f = udp_decapsulate(enc.data(), enc.size());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.err().code, "udp_frag");
  for (size_t n = 0; n < 10; ++n) EXPECT_FALSE(udp_decapsulate(enc.data(), n).ok()) << n;
}

TEST(socks5, pipelined_without_auth) {
  handshake h(command::connect, target, nullptr, proxy);
  // Greeting and CONNECT in one write.
  EXPECT_EQ(h.start(true), (bytes{0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 93, 184, 216, 34, 0x01, 0xbb}));
  // Both answers in one read, then early data.
  auto s = feed(h, {0x05, 0x00, 0x05, 0x00, 0x00, 0x01, 10, 0, 0, 2, 0x0f, 0xa0, 'h', 'i'});
  ASSERT_FALSE(s.failed) << s.failure.message;
  EXPECT_TRUE(s.send.empty()) << "nothing more to say";
  ASSERT_TRUE(s.done);
  EXPECT_EQ(h.bound().to_string(), "10.0.0.2:4000");
  EXPECT_EQ(h.take_leftover(), (bytes{'h', 'i'}));
}

TEST(socks5, pipelined_answers_may_arrive_one_by_one) {
  credentials c{"alice", "s3cret"};
  handshake h(command::connect, target, &c, proxy);
  auto first = h.start(true);
  EXPECT_EQ(first.size(), 3u + 14u + 10u) << "greeting, credentials and request together";
  auto s = feed(h, {0x05, 0x02});
  EXPECT_TRUE(s.send.empty());
  EXPECT_EQ(h.current_phase(), phase::auth);
  s = feed(h, {0x01, 0x00});
  EXPECT_TRUE(s.send.empty());
  EXPECT_EQ(h.current_phase(), phase::request);
  s = feed(h, {0x05, 0x00, 0x00, 0x01, 10, 0, 0, 2, 0x0f, 0xa0});
  ASSERT_TRUE(s.done);
}

TEST(socks5, pipelined_refusals_are_still_named) {
  credentials c{"alice", "wrong"};
  handshake h(command::connect, target, &c, proxy);
  h.start(true);
  auto s = feed(h, {0x05, 0x02, 0x01, 0x01});
  ASSERT_TRUE(s.failed);
  EXPECT_EQ(s.failure.code, "auth");
  handshake h2(command::connect, target, nullptr, proxy);
  h2.start(true);
  s = feed(h2, {0x05, 0x00, 0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(s.failed);
  EXPECT_EQ(s.failure.code, "request");
}

TEST(socks5, bound_address_replaced_when_it_names_the_proxy_host) {
  const endpoint proxy6 = *parse_ip("fd77::2", 1080);
  struct row {
    const char* what;
    command cmd;
    endpoint proxy;
    bytes bnd;  // ATYP ADDR PORT of the reply
    std::string want;
  };
  const bytes v6_loop = {0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x9c, 0x41};
  const bytes v6_any = {0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x9c, 0x41};
  const std::vector<row> rows = {
      {"udp 0.0.0.0", command::udp_associate, proxy, {0x01, 0, 0, 0, 0, 0x9c, 0x41}, "10.0.0.2:40001"},
      // hpsockd: "the relay is on my own host".
      {"udp 127.0.0.1", command::udp_associate, proxy, {0x01, 127, 0, 0, 1, 0x9c, 0x41}, "10.0.0.2:40001"},
      {"udp 127.8.9.10", command::udp_associate, proxy, {0x01, 127, 8, 9, 10, 0x9c, 0x41}, "10.0.0.2:40001"},
      {"udp ::1", command::udp_associate, proxy6, v6_loop, "[fd77:0:0:0:0:0:0:2]:40001"},
      {"udp ::", command::udp_associate, proxy6, v6_any, "[fd77:0:0:0:0:0:0:2]:40001"},
      {"udp 0.0.0.0 via v6",
       command::udp_associate,
       proxy6,
       {0x01, 0, 0, 0, 0, 0x9c, 0x41},
       "[fd77:0:0:0:0:0:0:2]:40001"},
      {"udp real relay", command::udp_associate, proxy, {0x01, 10, 0, 0, 9, 0x9c, 0x41}, "10.0.0.9:40001"},
      {"udp 128.0.0.1", command::udp_associate, proxy, {0x01, 128, 0, 0, 1, 0x9c, 0x41}, "128.0.0.1:40001"},
      {"udp ::2", command::udp_associate, proxy6,
       bytes{0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x9c, 0x41}, "[0:0:0:0:0:0:0:2]:40001"},
      {"connect 0.0.0.0", command::connect, proxy, {0x01, 0, 0, 0, 0, 0x9c, 0x41}, "10.0.0.2:40001"},
      // CONNECT's BND is the proxy's own side of its connection: kept.
      {"connect 127.0.0.1", command::connect, proxy, {0x01, 127, 0, 0, 1, 0x9c, 0x41}, "127.0.0.1:40001"},
  };
  for (auto& r : rows) {
    handshake h(r.cmd, associate_placeholder(r.proxy), nullptr, r.proxy);
    h.start();
    auto s = feed(h, {0x05, 0x00});
    ASSERT_FALSE(s.failed) << r.what;
    bytes reply = {0x05, 0x00, 0x00};
    reply.insert(reply.end(), r.bnd.begin(), r.bnd.end());
    s = feed(h, reply);
    ASSERT_TRUE(s.done) << r.what;
    EXPECT_EQ(h.bound().to_string(), r.want) << r.what;
  }
}

TEST(socks5, associate_placeholder_follows_the_proxy_family) {
  EXPECT_EQ(associate_placeholder(proxy), endpoint::v4({0, 0, 0, 0}, 0));
  const endpoint proxy6 = *parse_ip("fd77::2", 1080);
  EXPECT_EQ(associate_placeholder(proxy6), endpoint::v6({}, 0));
  // The request then says ATYP 04 [::]:0, which dante accepts over IPv6.
  handshake h(command::udp_associate, associate_placeholder(proxy6), nullptr, proxy6);
  h.start();
  auto s = feed(h, {0x05, 0x00});
  bytes want = {0x05, 0x03, 0x00, 0x04};
  want.insert(want.end(), 16 + 2, 0);
  EXPECT_EQ(s.send, want);
}

TEST(dns_query, query_and_answer) {
  auto q = dns::query_a(0xbeef, "check.drover.test");
  const bytes want = {0xbe, 0xef, 0x01, 0x00, 0,   1,   0, 0,   0,   0,   0,   0,  //
                      5,    'c',  'h',  'e',  'c', 'k', 6, 'd', 'r', 'o', 'v', 'e',
                      'r',  4,    't',  'e',  's', 't', 0, 0,   1,   0,   1};
  EXPECT_EQ(q, want);
  EXPECT_FALSE(dns::is_answer_to(q.data(), q.size(), 0xbeef)) << "a query (QR = 0) is no answer";
  auto a = q;
  a[2] |= 0x80;
  EXPECT_TRUE(dns::is_answer_to(a.data(), a.size(), 0xbeef));
  a[3] = 0x83;  // NXDOMAIN: still a round trip
  EXPECT_TRUE(dns::is_answer_to(a.data(), a.size(), 0xbeef));
  EXPECT_FALSE(dns::is_answer_to(a.data(), a.size(), 0xbeee)) << "another probe's answer";
  EXPECT_FALSE(dns::is_answer_to(a.data(), 11, 0xbeef)) << "shorter than a header";
  // Odd names still give a well-formed question.
  auto odd = dns::query_a(1, "a..b.");
  EXPECT_EQ(bytes(odd.begin() + 12, odd.end()), (bytes{1, 'a', 1, 'b', 0, 0, 1, 0, 1}));
}
