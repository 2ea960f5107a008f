#pragma once
/// Socket options the redirect path needs, on native handles. OS errors
/// become Drover errors here.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"

namespace drover::platform {

using native_socket = int;

/// Marks a socket as Drover's own so the capture never classifies it.
status set_own_mark(native_socket s);
/// The destination a REDIRECTed TCP connection originally had.
result<endpoint> original_dst(native_socket s);
/// Raises a socket's receive buffer to `bytes` (past the system's default
/// cap where privileges allow: bursts of datagrams must not be lost).
status set_receive_buffer(native_socket s, int bytes);
/// Prepares a UDP socket to receive TPROXY traffic (IP_TRANSPARENT and
/// IP_RECVORIGDSTADDR); call before bind.
status make_transparent_udp(native_socket s);

struct udp_received {
  size_t len = 0;
  endpoint source;
  endpoint original_dst;
};
/// Receives one datagram with its original destination; code "would_block"
/// when nothing is pending.
result<udp_received> recv_with_original_dst(native_socket s, uint8_t* buf, size_t cap);

/// Delivers fabricated IPv4 packets to local sockets (raw socket, own mark).
class raw_sender {
 public:
  raw_sender();
  ~raw_sender();
  raw_sender(const raw_sender&) = delete;
  raw_sender& operator=(const raw_sender&) = delete;
  status open();
  status send(const std::vector<uint8_t>& ip_packet, const endpoint& to);

 private:
  int fd_ = -1;
};

}  // namespace drover::platform
