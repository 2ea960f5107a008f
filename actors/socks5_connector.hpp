#pragma once
/// Opens one SOCKS5 session upstream over Asio: connect (own mark, timeout),
/// greeting, auth, request. Shared by the TCP and UDP relays.
#include <asio.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "actors/engine_shared.hpp"
#include "core/socks5.hpp"
#include "messages/messages.hpp"

namespace drover {

struct socks5_opened {
  std::optional<upstream_failure> failure;  ///< empty on success
  endpoint bound;                           ///< BND.ADDR (UDP relay endpoint)
  std::vector<uint8_t> leftover;            ///< early bytes after the reply
};

/// `sock` must be closed; it is opened, connected and handshaken.
void async_socks5_open(asio::ip::tcp::socket& sock, const upstream_info& up, socks5::command cmd, endpoint target,
                       std::function<void(socks5_opened)> done);

asio::ip::address to_asio_address(const endpoint& e);
endpoint from_asio(const asio::ip::address& a, uint16_t port);

}  // namespace drover
