#pragma once
/// The redirect seam: how the OS hands Drover the flows of target processes,
/// in words both OSes share. Linux: NFQUEUE for first packets, iptables
/// CONNMARK/REDIRECT/TPROXY for the rest, the original destination from the
/// kernel, a raw socket for UDP replies. Windows: WinDivert (reflect), later.
///
/// Two handles, because their lifetimes differ: the redirect (steering every
/// decided flow to the listeners) stays in place while the capture (asking
/// the engine about each new flow) is lost and reopened — E3's driver
/// recovery must never leave a moment without steering.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/address.hpp"
#include "core/filter.hpp"
#include "core/flow_verdict.hpp"
#include "core/result.hpp"
#include "platform/flow_owner.hpp"
#include "platform/native_socket.hpp"

namespace drover::platform {

/// What the redirect is built from, the same on every OS.
struct redirect_plan {
  filter::inputs inputs;  ///< own pid, the proxy's addresses, skip ranges
  uint16_t tcp_port = 0;  ///< the engine's TCP listener (loopback)
  uint16_t udp_port = 0;  ///< the engine's UDP listener (loopback)
};

/// Steers decided flows to the listeners; removed on destruction.
class redirector {
 public:
  virtual ~redirector() = default;
  /// True while everything installed is still in place.
  virtual bool intact() const = 0;
  /// Puts `plan` in place of the current one with no moment in between.
  virtual status update(const redirect_plan& plan) = 0;
};

/// Installs the redirect, replacing a crashed run's in place (no moment
/// without one). Blocking: not on an actor's shared thread.
result<std::unique_ptr<redirector>> install_redirect(const redirect_plan& plan);
/// Removes whatever a redirect left behind; safe when nothing is there.
void remove_stale_redirect();
/// True when a redirect of Drover's is in place (a crashed engine's holds
/// every new flow). Needs the rights the engine has to tell.
bool leftover_redirect_present();
/// How an operator looks at what is left, for messages ("" where nothing
/// outlives the engine).
std::string leftover_redirect_hint();

/// The first packet of a new flow (possibly cut to its headers) → the
/// verdict, which the platform applies to every packet of that flow.
using decide_fn = std::function<verdict(const uint8_t* packet, size_t len, const packet_origin& from)>;

/// Where new flows come up to be decided.
class flow_capture {
 public:
  virtual ~flow_capture() = default;
  /// Decides flows until shutdown() (returns ok) or the capture is lost (an
  /// error whose code is "driver_lost", or "driver_gone" when reopening
  /// cannot help).
  virtual status run(const decide_fn& decide) = 0;
  /// Makes run() return; from any thread.
  virtual void shutdown() = 0;
};

result<std::unique_ptr<flow_capture>> open_flow_capture();

/// The destination a redirected TCP connection had before it reached the
/// listener (`accepted` is the listener's accepted socket).
result<endpoint> original_dst(native_socket accepted);

/// Makes a bound-to-be UDP socket the listener for redirected datagrams
/// (call before bind): it receives them with their original destination and
/// a receive buffer for bursts.
status prepare_udp_listener(native_socket s);

struct udp_received {
  size_t len = 0;
  endpoint source;        ///< the app's socket
  endpoint original_dst;  ///< where the app sent it
};
/// One redirected datagram; code "would_block" when none is pending.
result<udp_received> receive_udp(native_socket listener, uint8_t* buf, size_t cap);

/// Delivers datagrams to an app as if they came from the original
/// destination (its socket may be connected to that address).
class udp_delivery {
 public:
  virtual ~udp_delivery() = default;
  virtual status deliver(const endpoint& from, const endpoint& to, const uint8_t* payload, size_t len) = 0;
};
result<std::unique_ptr<udp_delivery>> open_udp_delivery();

/// What a diagnostics dump shows of the capture, in every state (also when
/// it could not open): name -> text. Windows: the WinDivert filters and how
/// the DLL loaded; Linux: the queue.
std::vector<std::pair<std::string, std::string>> capture_details();

/// The address the TCP listener binds. Linux: 127.0.0.1 (the kernel's
/// REDIRECT reaches it). Windows: 0.0.0.0, since reflected packets are
/// addressed to the app's own interface address; a connection no redirect
/// made finds no original destination and is closed.
const char* tcp_listener_address();

/// Keeps one of Drover's own sockets (to the proxy) out of the capture, so
/// it is never decided, redirected or refused.
status exclude_from_capture(native_socket s);

/// Raises a socket's receive buffer to `bytes` (past the system's default
/// cap where privileges allow: bursts of datagrams must not be lost).
status set_receive_buffer(native_socket s, int bytes);

}  // namespace drover::platform
