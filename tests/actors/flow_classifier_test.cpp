// The first-packet classifier with a stand-in owner lookup: every verdict,
// every counter, and that nothing unattributable ever goes direct.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "actors/flow_classifier.hpp"
#include "core/packet.hpp"

using namespace drover;

namespace {

// What the stand-in lookup answers for every packet, and what it was asked.
struct owner_script {
  result<uint32_t> answer = uint32_t{0};
  int calls = 0;
  std::vector<uint32_t> last_candidates;
};

class scripted_owner final : public platform::flow_owner {
 public:
  explicit scripted_owner(owner_script& s) : s_(s) {}
  result<uint32_t> owner(const packet::view&, const platform::packet_origin&, const std::vector<uint32_t>& candidates,
                         const std::function<bool(const std::string&)>&) override {
    ++s_.calls;
    s_.last_candidates = candidates;
    return s_.answer;
  }
  bool reports_new_processes() const override { return true; }

 private:
  owner_script& s_;
};

// IPv4 TCP SYN 10.0.0.2:40000 -> 192.0.2.7:443, no options.
const std::vector<uint8_t> tcp_syn = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10,   0,    0,    2,    192, 0, 2, 7,
    0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0,   0, 0, 0};
// The same connection's later ACK (opened before the rules).
std::vector<uint8_t> tcp_ack() {
  auto p = tcp_syn;
  p[33] = packet::tcp_ack;
  return p;
}
// IPv4 UDP 10.0.0.2:5000 -> 192.0.2.9:3478 with a 1,200-byte payload (a QUIC-sized first datagram).
std::vector<uint8_t> udp_big() {
  std::vector<uint8_t> payload(1200, 0xab);
  return packet::make_udp_v4({10, 0, 0, 2}, 5000, {192, 0, 2, 9}, 3478, payload.data(), payload.size());
}
// IPv6 UDP ::1 -> ::2 port 53, 8 bytes of payload.
const std::vector<uint8_t> udp_v6 = {0x60, 0, 0,    0,    0, 16, 17, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0,    0, 0,    0,    1, 0,  0,  0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0,    2, 0x13, 0x88, 0, 53, 0,  16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};

struct classifier_test : ::testing::Test {
  std::shared_ptr<engine_shared> shared = std::make_shared<engine_shared>();
  owner_script script;
  std::unique_ptr<flow_classifier> c;
  void SetUp() override {
    shared->active = true;
    shared->udp_available = true;
    c = std::make_unique<flow_classifier>(shared, std::make_unique<scripted_owner>(script));
  }
  verdict run(const std::vector<uint8_t>& p, size_t cut = 0) { return c->classify(p.data(), cut ? cut : p.size()); }
};

TEST_F(classifier_test, target_tcp_is_redirected_and_learnt) {
  script.answer = uint32_t{4242};
  EXPECT_EQ(run(tcp_syn), verdict::redirect_tcp);
  EXPECT_EQ(shared->counters.redirected.load(), 1u);
  EXPECT_EQ(shared->targets(), std::vector<uint32_t>{4242});
}

TEST_F(classifier_test, known_targets_are_offered_first) {
  shared->set_targets({7, 9});
  script.answer = uint32_t{9};
  run(tcp_syn);
  EXPECT_EQ(script.last_candidates, (std::vector<uint32_t>{7, 9}));
}

TEST_F(classifier_test, non_target_goes_direct) {
  script.answer = uint32_t{0};
  EXPECT_EQ(run(tcp_syn), verdict::direct);
  EXPECT_EQ(shared->counters.direct.load(), 1u);
}

TEST_F(classifier_test, unknown_owner_is_refused_never_direct) {
  script.answer = make_error("owner", "no socket found");
  EXPECT_EQ(run(tcp_syn), verdict::refuse);
  EXPECT_EQ(run(udp_big()), verdict::refuse);
  EXPECT_EQ(shared->counters.unattributed.load(), 2u);
  EXPECT_EQ(shared->counters.refused.load(), 2u);
  EXPECT_EQ(shared->counters.direct.load(), 0u);
}

TEST_F(classifier_test, a_first_datagram_cut_to_its_headers_is_decided) {
  script.answer = uint32_t{4242};
  auto p = udp_big();
  EXPECT_EQ(run(p, 256), verdict::redirect_udp);  // the copy the queue hands over
}

TEST_F(classifier_test, garbage_is_refused_without_a_lookup) {
  std::vector<uint8_t> junk = {0x45, 0x00, 0x00};
  EXPECT_EQ(run(junk), verdict::refuse);
  EXPECT_EQ(script.calls, 0);
  EXPECT_EQ(shared->counters.unattributed.load(), 1u);
}

TEST_F(classifier_test, target_ipv6_is_refused) {
  script.answer = uint32_t{4242};
  EXPECT_EQ(run(udp_v6), verdict::refuse);
  EXPECT_EQ(shared->counters.direct.load(), 0u);
}

TEST_F(classifier_test, not_active_refuses_targets) {
  shared->active = false;
  script.answer = uint32_t{4242};
  EXPECT_EQ(run(tcp_syn), verdict::refuse);
}

TEST_F(classifier_test, no_udp_at_the_proxy_refuses_target_udp_only) {
  shared->udp_available = false;
  script.answer = uint32_t{4242};
  EXPECT_EQ(run(udp_big()), verdict::refuse);
  EXPECT_EQ(run(tcp_syn), verdict::redirect_tcp);
}

TEST_F(classifier_test, a_connection_opened_before_the_rules_is_not_redirected) {
  script.answer = uint32_t{4242};
  EXPECT_EQ(run(tcp_ack()), verdict::refuse);  // a reset: the app reconnects, through the proxy
}

}  // namespace
