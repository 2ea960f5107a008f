#include "core/flow_verdict.hpp"

namespace drover::flow_verdict {

const char* to_string(reason r) {
  switch (r) {
    case reason::none:
      return "redirected";
    case reason::unparseable:
      return "headers unreadable";
    case reason::owner_unknown:
      return "owner unknown";
    case reason::not_target:
      return "not a target";
    case reason::ipv6:
      return "IPv6 of a target";
    case reason::not_active:
      return "engine not Active";
    case reason::no_udp:
      return "the proxy has no UDP";
    case reason::opened_before:
      return "a target's connection opened before Drover";
  }
  return "?";
}

decision decide(const facts& f) {
  // A packet nobody can vouch for is refused: if it was a target's, sending
  // it direct would be the leak Drover exists to prevent.
  if (!f.parsed || f.proto == packet::l4_proto::other) return {verdict::refuse, reason::unparseable};
  if (f.owner == ownership::unknown) return {verdict::refuse, reason::owner_unknown};
  if (f.owner == ownership::not_target) return {verdict::direct, reason::not_target};
  // A target's IPv6 is refused fast so the app falls back to IPv4 at once.
  if (f.version == packet::ip_version::v6) return {verdict::refuse, reason::ipv6};
  if (!f.active) return {verdict::refuse, reason::not_active};
  // Its bytes so far went direct; a reset makes the app connect again, and
  // that connection goes through the proxy.
  if (f.proto == packet::l4_proto::tcp && f.tcp_established) return {verdict::refuse, reason::opened_before};
  if (f.proto == packet::l4_proto::udp) {
    if (!f.udp_available) return {verdict::refuse, reason::no_udp};
    return {verdict::redirect_udp, reason::none};
  }
  return {verdict::redirect_tcp, reason::none};
}

}  // namespace drover::flow_verdict
