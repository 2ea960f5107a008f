#pragma once
/// The first-packet verdict as a pure function of what the capture learnt
/// about a new flow: who owns it and what state the engine is in. One place
/// says "through the proxy or nowhere" for both OSes.
#include <cstdint>

#include "core/packet.hpp"

namespace drover {

enum class verdict { direct, redirect_tcp, redirect_udp, refuse };

namespace flow_verdict {

/// Whose socket sent the packet, as far as the owner lookup could tell.
enum class ownership {
  not_target,  ///< a process that is not a target (or no target runs at all)
  target,
  unknown,  ///< the lookup failed or found no socket while targets run
};

struct facts {
  bool parsed = false;  ///< IP and TCP/UDP headers were readable
  packet::ip_version version = packet::ip_version::v4;
  packet::l4_proto proto = packet::l4_proto::other;
  /// A TCP packet of a connection opened before the rules (not its SYN):
  /// too late to redirect.
  bool tcp_established = false;
  ownership owner = ownership::unknown;
  bool active = false;         ///< engine Active: targets may be redirected
  bool udp_available = false;  ///< the proxy relays UDP
};

/// Why a flow was not redirected (or `none`).
enum class reason { none, unparseable, owner_unknown, not_target, ipv6, not_active, no_udp, opened_before };
const char* to_string(reason r);

struct decision {
  drover::verdict v = drover::verdict::refuse;
  reason why = reason::none;
};

/// Never "direct" unless the owner is known not to be a target.
decision decide(const facts& f);

}  // namespace flow_verdict
}  // namespace drover
