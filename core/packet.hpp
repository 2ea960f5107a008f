#pragma once
/// IPv4/IPv6 + TCP/UDP parsing, in-place rewrite and checksums. Every length
/// field is bounds-checked: a packet that lies about its size is rejected.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace drover::packet {

enum class ip_version : uint8_t { v4 = 4, v6 = 6 };
enum class l4_proto : uint8_t { other = 0, tcp = 6, udp = 17 };

/// An IPv4 address in network byte order as four bytes (a.b.c.d).
using ipv4_addr = std::array<uint8_t, 4>;
/// An IPv6 address in network byte order; also the family-neutral form
/// (view::src/dst, endpoint::ip) where IPv4 uses the first 4 bytes.
using ipv6_addr = std::array<uint8_t, 16>;

/// Offsets and fields of a parsed packet; offsets index into the buffer.
struct view {
  ip_version version = ip_version::v4;
  l4_proto proto = l4_proto::other;
  size_t ip_header_len = 0;
  size_t total_len = 0;  ///< bytes covered by the IP header's length field
  size_t l4_offset = 0;
  size_t l4_len = 0;  ///< transport header + payload
  size_t payload_offset = 0;
  size_t payload_len = 0;
  std::array<uint8_t, 16> src{};  ///< v4 uses the first 4 bytes
  std::array<uint8_t, 16> dst{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;
  /// Only the headers were captured (parse_headers): the IP length fields
  /// claim more than the buffer holds; l4_len and payload_len are clamped
  /// to what is there.
  bool truncated = false;
};

constexpr uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_ack = 0x10;

/// Parses an IPv4 or IPv6 packet. IPv6 is recognised (addresses, next header
/// when it is directly TCP/UDP) so callers can refuse it; fragments other than
/// the first carry no ports and are reported with proto `other`.
result<view> parse(const uint8_t* data, size_t len);

/// Like parse, for a copy that may end after the headers (NFQUEUE copies a
/// packet's first bytes only): the IP and TCP/UDP headers must be there and
/// consistent with the lengths the packet claims; the payload may be cut.
/// IPv6 extension headers (hop-by-hop, routing, fragment, destination
/// options, AH) are walked to the transport header.
result<view> parse_headers(const uint8_t* data, size_t captured);

/// One's-complement sum helpers (RFC 1071 / RFC 1624).
uint32_t sum16(const uint8_t* data, size_t len, uint32_t acc = 0);
uint16_t fold(uint32_t acc);

/// Recomputes the IPv4 header checksum and the TCP/UDP checksum (IPv4 or
/// IPv6 pseudo-header) from scratch: works for 64 KB GSO packets and for
/// captures whose checksum fields are only partial (offload).
status recompute_checksums(uint8_t* data, size_t len);

/// Incrementally patches a checksum for a 16-bit word change (RFC 1624 eq. 3).
uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word);

/// Rewrites IPv4 addresses/ports in place with incremental checksum updates.
status rewrite_v4(uint8_t* data, size_t len, const ipv4_addr& src, uint16_t src_port, const ipv4_addr& dst,
                  uint16_t dst_port);

/// Swaps source and destination addresses (WinDivert reflect technique) and
/// sets the destination port; checksums stay valid (swap is sum-neutral).
status reflect_v4(uint8_t* data, size_t len, uint16_t new_dst_port);

/// Fabricates an IPv4+UDP packet with valid checksums (UDP replies to apps).
std::vector<uint8_t> make_udp_v4(const ipv4_addr& src, uint16_t src_port, const ipv4_addr& dst, uint16_t dst_port,
                                 const uint8_t* payload, size_t payload_len, uint16_t ip_id = 0);
/// The same for IPv6 (hop limit 64), whose UDP checksum is mandatory.
std::vector<uint8_t> make_udp_v6(const ipv6_addr& src, uint16_t src_port, const ipv6_addr& dst, uint16_t dst_port,
                                 const uint8_t* payload, size_t payload_len);
/// Writes such a packet into `out` (no allocation: a batch's buffer) and
/// returns its size; IPv4 uses the first 4 bytes of the addresses. The
/// payload may already be in place (out + 28 or 48). Fails if it exceeds
/// `cap` or the 65,535 bytes the length fields can say.
result<size_t> write_udp(uint8_t* out, size_t cap, ip_version version, const ipv6_addr& src, uint16_t src_port,
                         const ipv6_addr& dst, uint16_t dst_port, const uint8_t* payload, size_t payload_len,
                         uint16_t ip_id = 0);

/// Dotted-quad / bracketed textual form of an address in a view.
std::string addr_to_string(const view& v, bool source);

}  // namespace drover::packet
