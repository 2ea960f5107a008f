#include "core/flow_verdict.hpp"

#include <gtest/gtest.h>

using namespace drover;
using namespace drover::flow_verdict;
using packet::ip_version;
using packet::l4_proto;

namespace {

struct row {
  const char* what;
  facts in;
  verdict want;
  reason why;
};

facts f(bool parsed, ip_version v, l4_proto p, ownership o, bool active, bool udp) {
  facts x;
  x.parsed = parsed;
  x.version = v;
  x.proto = p;
  x.owner = o;
  x.active = active;
  x.udp_available = udp;
  return x;
}

facts established(facts x) {
  x.tcp_established = true;
  return x;
}

constexpr auto v4 = ip_version::v4;
constexpr auto v6 = ip_version::v6;
constexpr auto tcp = l4_proto::tcp;
constexpr auto udp = l4_proto::udp;
constexpr auto other = l4_proto::other;
constexpr auto tgt = ownership::target;
constexpr auto not_tgt = ownership::not_target;
constexpr auto unknown = ownership::unknown;

}  // namespace

TEST(flow_verdict, table) {
  const row rows[] = {
      {"target TCP while Active", f(true, v4, tcp, tgt, true, true), verdict::redirect_tcp, reason::none},
      {"target UDP while Active", f(true, v4, udp, tgt, true, true), verdict::redirect_udp, reason::none},
      {"target UDP, TCP-only proxy", f(true, v4, udp, tgt, true, false), verdict::refuse, reason::no_udp},
      {"target TCP, TCP-only proxy", f(true, v4, tcp, tgt, true, false), verdict::redirect_tcp, reason::none},
      {"target TCP while Starting", f(true, v4, tcp, tgt, false, true), verdict::refuse, reason::not_active},
      {"target TCP opened before Drover", established(f(true, v4, tcp, tgt, true, true)), verdict::refuse,
       reason::opened_before},
      {"non-target TCP opened before Drover", established(f(true, v4, tcp, not_tgt, true, true)), verdict::direct,
       reason::not_target},
      {"target UDP while Reconnecting", f(true, v4, udp, tgt, false, true), verdict::refuse, reason::not_active},
      {"target IPv6 TCP", f(true, v6, tcp, tgt, true, true), verdict::refuse, reason::ipv6},
      {"target IPv6 UDP", f(true, v6, udp, tgt, true, true), verdict::refuse, reason::ipv6},
      {"non-target TCP", f(true, v4, tcp, not_tgt, true, true), verdict::direct, reason::not_target},
      {"non-target IPv6 UDP", f(true, v6, udp, not_tgt, false, false), verdict::direct, reason::not_target},
      {"owner unknown", f(true, v4, udp, unknown, true, true), verdict::refuse, reason::owner_unknown},
      {"owner unknown while Starting", f(true, v4, tcp, unknown, false, true), verdict::refuse, reason::owner_unknown},
      {"headers unreadable", f(false, v4, udp, not_tgt, true, true), verdict::refuse, reason::unparseable},
      {"no transport header (later fragment)", f(true, v6, other, not_tgt, true, true), verdict::refuse,
       reason::unparseable},
  };
  for (auto& r : rows) {
    auto d = decide(r.in);
    EXPECT_EQ(d.v, r.want) << r.what;
    EXPECT_EQ(d.why, r.why) << r.what;
  }
}

TEST(flow_verdict, never_direct_unless_owner_is_known_not_a_target) {
  // Every combination: "direct" only ever comes from ownership::not_target.
  for (bool parsed : {false, true})
    for (auto v : {v4, v6})
      for (auto p : {tcp, udp, other})
        for (auto o : {tgt, not_tgt, unknown})
          for (bool active : {false, true})
            for (bool u : {false, true}) {
              auto d = decide(f(parsed, v, p, o, active, u));
              if (d.v == verdict::direct) {
                EXPECT_EQ(o, not_tgt);
              }
              if (o == tgt) {
                EXPECT_NE(d.v, verdict::direct);
              }
            }
}
