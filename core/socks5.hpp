#pragma once
/// SOCKS5 client (RFC 1928, RFC 1929) as a pure state machine: bytes in,
/// bytes out, no I/O. The relays and `drover check` drive it over sockets.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"

namespace drover::socks5 {

enum class command : uint8_t { connect = 1, udp_associate = 3 };

/// Which protocol step a failure belongs to (shown to users by `check`).
enum class phase : uint8_t { greeting, auth, request, done };
const char* to_string(phase p);

/// Human text for a reply code (REP field).
std::string reply_message(uint8_t rep);

struct credentials {
  std::string username;
  std::string password;
};

/// One outcome of feeding bytes to the handshake.
struct step {
  std::vector<uint8_t> send;  ///< bytes to write to the proxy next (may be empty)
  bool done = false;          ///< handshake finished successfully
  bool failed = false;
  error failure;  ///< set when failed; code names the phase
};

/// Drives greeting → (auth) → request → reply.
class handshake {
 public:
  /// `proxy` (the address the proxy was reached at) replaces a BND.ADDR of
  /// 0.0.0.0 / :: in the reply, and for UDP ASSOCIATE also a loopback one
  /// (127.0.0.0/8, ::1), which only names the proxy's own host.
  handshake(command cmd, endpoint target, const credentials* creds, endpoint proxy);
  /// First bytes to send (method negotiation). With `pipeline`, everything
  /// the client will say goes at once (greeting, credentials, request):
  /// saves the proxy one or two round trips per connection, for proxies
  /// known to read past the greeting (see drover check).
  std::vector<uint8_t> start(bool pipeline = false);
  /// Feeds bytes from the proxy; consumes what it can, keeps the rest.
  step feed(const uint8_t* data, size_t len);
  phase current_phase() const { return phase_; }
  /// The BND address of the final reply (relay endpoint for UDP ASSOCIATE).
  const endpoint& bound() const { return bound_; }
  /// Bytes received after the reply (early data from the destination).
  std::vector<uint8_t> take_leftover();

 private:
  step fail(std::string code, std::string message);
  std::vector<uint8_t> request_bytes() const;
  std::vector<uint8_t> auth_bytes() const;
  step on_method();
  step on_auth();
  step on_reply();

  command cmd_;
  endpoint target_;
  bool use_auth_;
  credentials creds_;
  endpoint proxy_;
  phase phase_ = phase::greeting;
  std::vector<uint8_t> buf_;
  endpoint bound_;
  bool pipelined_ = false;
};

/// DST.ADDR/PORT for UDP ASSOCIATE: "any" in the family of the connection
/// to the proxy (0.0.0.0:0, or [::]:0 for an IPv6 proxy). An IPv4
/// placeholder over IPv6 is refused by dante ("address type not supported").
endpoint associate_placeholder(const endpoint& proxy);

/// Encodes an address as ATYP + address + port.
void encode_address(const endpoint& e, std::vector<uint8_t>& out);

/// Parses ATYP + address + port at data[0..len); returns bytes used, 0 if
/// more data is needed, or an error for a malformed field.
result<size_t> decode_address(const uint8_t* data, size_t len, endpoint& out);

/// Prepends the UDP request header (RSV RSV FRAG=0 ATYP ADDR PORT).
std::vector<uint8_t> udp_encapsulate(const endpoint& dst, const uint8_t* payload, size_t len);

struct udp_datagram {
  endpoint source;        ///< DST.ADDR/PORT field: the remote peer
  size_t payload_offset;  ///< into the decapsulated buffer
  size_t payload_len;
};
/// Strips the UDP header; FRAG != 0 yields error code "udp_frag".
result<udp_datagram> udp_decapsulate(const uint8_t* data, size_t len);

}  // namespace drover::socks5
