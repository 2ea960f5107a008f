// WinDivertHelperCalcChecksums of the test double, as documented for 2.2:
// the IPv4 header checksum and the TCP, UDP, ICMP or ICMPv6 checksum from
// scratch (IPv4 and IPv6), each unless its WINDIVERT_HELPER_NO_*_CHECKSUM
// flag is given, setting the address's IPChecksum / TCPChecksum /
// UDPChecksum bits for what it computed (never clearing them, as the DLL).
// FALSE for a packet it cannot parse, or a truncated or fragmented one.
// Written here from the documentation, so that the double checks Drover's
// own checksums independently instead of trusting them.
#include <cstdint>
#include <cstring>

#include "tests/windows/windivert_double/double_exports.hpp"

namespace {

constexpr uint64_t no_ip = 1, no_icmp = 2, no_icmpv6 = 4, no_tcp = 8, no_udp = 16;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// The ones' complement sum of big-endian 16-bit words (an odd byte padded).
uint32_t sum(const uint8_t* p, size_t len, uint32_t acc = 0) {
  for (; len > 1; p += 2, len -= 2) acc += get16(p);
  if (len) acc += static_cast<uint32_t>(p[0]) << 8;
  return acc;
}

uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

struct parsed {
  uint8_t* ip4 = nullptr;  // the IPv4 header, or null for IPv6
  uint8_t* ip6 = nullptr;
  uint8_t proto = 0;      // the transport protocol
  uint8_t* l4 = nullptr;  // its header
  size_t l4_len = 0;      // transport header + payload, from the IP header's lengths
  bool fragment = false;
};

// IPv6 extension headers the DLL skips: hop-by-hop, routing, destination
// options; a fragment header marks the packet a fragment.
bool parse(uint8_t* p, size_t len, parsed& out) {
  if (len < 1) return false;
  if ((p[0] >> 4) == 4) {
    size_t hl = static_cast<size_t>(p[0] & 0xF) * 4, total = get16(p + 2);
    if (len < 20 || hl < 20 || total < hl || total > len) return false;
    out.ip4 = p;
    out.proto = p[9];
    out.l4 = p + hl;
    out.l4_len = total - hl;
    out.fragment = (get16(p + 6) & 0x3FFF) != 0;  // MF or an offset
    return true;
  }
  if ((p[0] >> 4) != 6 || len < 40) return false;
  size_t total = 40 + get16(p + 4), off = 40;
  if (total > len) return false;
  uint8_t next = p[6];
  while (next == 0 || next == 43 || next == 60 || next == 44) {
    if (off + 8 > total) return false;
    if (next == 44) out.fragment = true;
    size_t ext = next == 44 ? 8 : (static_cast<size_t>(p[off + 1]) + 1) * 8;
    next = p[off];
    off += ext;
    if (off > total) return false;
  }
  out.ip6 = p;
  out.proto = next;
  out.l4 = p + off;
  out.l4_len = total - off;
  return true;
}

// The pseudo-header's sum: addresses, protocol, transport length.
uint32_t pseudo(const parsed& pk) {
  uint32_t acc = pk.ip4 ? sum(pk.ip4 + 12, 8) : sum(pk.ip6 + 8, 32);
  acc += pk.proto;
  acc += static_cast<uint32_t>(pk.l4_len >> 16) + static_cast<uint32_t>(pk.l4_len & 0xFFFF);
  return acc;
}

}  // namespace

extern "C" DOUBLE_EXPORT int WinDivertHelperCalcChecksums(void* packet, unsigned packet_len, windivert::address* addr,
                                                          uint64_t flags) {
  parsed pk;
  if (!packet || !parse(static_cast<uint8_t*>(packet), packet_len, pk)) return 0;
  if (pk.ip4 && !(flags & no_ip)) {
    put16(pk.ip4 + 10, 0);
    put16(pk.ip4 + 10, fold(sum(pk.ip4, static_cast<size_t>(pk.ip4[0] & 0xF) * 4)));
    if (addr) addr->ip_checksum = 1;
  }
  size_t at;  // the checksum's offset in the transport header
  uint64_t skip;
  bool with_pseudo = true;
  switch (pk.proto) {
    case 6:
      at = 16, skip = no_tcp;
      break;
    case 17:
      at = 6, skip = no_udp;
      break;
    case 1:
      at = 2, skip = no_icmp, with_pseudo = false;
      break;  // ICMP (IPv4) has no pseudo-header
    case 58:
      at = 2, skip = no_icmpv6;
      break;
    default:
      return 1;  // nothing more to compute
  }
  if (pk.proto == 1 && !pk.ip4) return 1;
  if (flags & skip) return 1;
  size_t min = pk.proto == 6 ? 20 : pk.proto == 17 ? 8 : 4;
  if (pk.fragment || pk.l4_len < min) return 0;
  if (pk.proto == 6 && static_cast<size_t>(pk.l4[12] >> 4) * 4 > pk.l4_len) return 0;
  put16(pk.l4 + at, 0);
  uint16_t c = fold(sum(pk.l4, pk.l4_len, with_pseudo ? pseudo(pk) : 0));
  if (pk.proto == 17 && c == 0) c = 0xFFFF;  // 0 means "no checksum" for UDP
  put16(pk.l4 + at, c);
  if (addr && pk.proto == 6) addr->tcp_checksum = 1;
  if (addr && pk.proto == 17) addr->udp_checksum = 1;
  return 1;
}
