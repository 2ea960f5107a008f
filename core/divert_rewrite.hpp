#pragma once
/// The Windows capture's per-packet work, as pure functions over a buffer
/// holding one whole IPv4 or IPv6 packet: where a captured outbound packet
/// goes, the reflect rewrite (WinDivert's streamdump) both ways, the RST
/// that refuses a TCP flow and the UDP replies fabricated for the apps.
/// Every function parses first and refuses a packet whose lengths lie; none
/// reads or writes outside [data, data + len) or [out, out + cap).
#include <cstddef>
#include <cstdint>

#include "core/address.hpp"
#include "core/packet.hpp"
#include "core/port_table.hpp"
#include "core/result.hpp"

namespace drover::divert {

/// What the capture does with one outbound packet.
enum class route : uint8_t {
  reinject,       ///< decided direct: send it on unchanged
  decide,         ///< its local port is undecided: ask the engine, fill the port_table, classify again
  to_listener,    ///< a redirected TCP flow's: reflect_to_listener, then send it inbound
  from_listener,  ///< the listener answering a redirected flow: reflect_from_listener, send inbound
  take_udp,       ///< a redirected UDP flow's: hand payload and destination to the relay, send nothing
  refuse,         ///< TCP: inject make_rst (if it makes one) and drop it; UDP: drop it
  drop,           ///< unparseable, or the listener talking to no redirected flow: send nothing
};
const char* to_string(route r);

struct classified {
  route r = route::drop;
  packet::view v;          ///< the parsed packet (unless r is drop for garbage)
  uint16_t orig_port = 0;  ///< from_listener: the original destination port to restore
};

/// Parse plus one port_table read. `listener_port` is the TCP listener's:
/// a packet from it is a reply to a reflected client, looked up by the
/// client's port (its destination port); any other packet by its source
/// (local) port. A listener packet with no redirected flow behind it is
/// dropped, never sent: it would reach the original destination from the
/// user's own address.
classified classify(const uint8_t* data, size_t len, const port_table& t, uint16_t listener_port);

/// A redirected flow's packet, client C:cp -> original destination S:sp,
/// becomes S:cp -> C:listener_port (addresses swapped, destination port
/// set), with full checksums. Injected inbound, it reaches the listener,
/// which sees the original destination's address as its peer's.
status reflect_to_listener(uint8_t* data, size_t len, uint16_t listener_port);

/// The listener's reply, C:listener_port -> S:cp, becomes S:orig_port ->
/// C:cp (addresses swapped back, source port restored), with full
/// checksums: injected inbound, the app sees its peer answer.
status reflect_from_listener(uint8_t* data, size_t len, uint16_t orig_port);

/// Largest packet make_rst writes (IPv6 + TCP).
constexpr size_t rst_max_len = 60;

/// The reset the peer would send for the app's TCP segment (C:cp -> S:sp):
/// a packet S:sp -> C:cp, IPv4 or IPv6 as the segment, written to `out`;
/// returns its size. RFC 793 §3.4: a segment with ACK gets RST with seq =
/// its ack; one without (a SYN) gets RST|ACK with seq 0 and ack = its seq
/// plus its length (SYN and FIN count one each). A RST is never answered
/// (error "is_rst").
result<size_t> make_rst(const uint8_t* seg, size_t len, uint8_t* out, size_t cap);

/// A UDP reply from `from` (the original destination) to `to` (the app's
/// socket), fabricated with valid checksums into `out`; returns its size.
/// Both must be IP endpoints of one family.
result<size_t> make_udp_reply(const endpoint& from, const endpoint& to, const uint8_t* payload, size_t payload_len,
                              uint8_t* out, size_t cap);

/// The packet's source / destination as an endpoint (the NAT table's
/// original destination, the UDP relay's target).
endpoint source_of(const packet::view& v);
endpoint destination_of(const packet::view& v);

}  // namespace drover::divert
