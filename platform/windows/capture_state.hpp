#pragma once
/// Internal to platform/windows: what the parts of the WinDivert redirect
/// share. The capture loop decides and rewrites packets; the relay's
/// listener asks for a reflected connection's original destination; the
/// UDP listener receives the datagrams the loop took; UDP replies are
/// injected through the loop's handle; the flow owner reads the owners the
/// SOCKET layer reported. One per process, as the capture is.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/address.hpp"
#include "core/flow_table.hpp"
#include "core/packet.hpp"
#include "core/port_table.hpp"
#include "third_party/windivert/windivert_api.hpp"

namespace drover::platform::win {

struct windivert_library;

/// A local socket, as the NAT and owner tables key it.
struct socket_key {
  packet::ip_version family;
  flow_proto proto;
  uint16_t port;
  bool operator==(const socket_key& o) const { return family == o.family && proto == o.proto && port == o.port; }
};
struct socket_key_hash {
  size_t operator()(const socket_key& k) const {
    return static_cast<size_t>(k.family == packet::ip_version::v6) << 24 | static_cast<size_t>(k.proto) << 16 | k.port;
  }
};

/// A redirected flow: where the app wanted to go, and the interface its
/// packets left by (inbound injection of replies needs it).
struct nat_entry {
  endpoint original_dst;
  windivert::data_network iface{};
};

/// The NETWORK-layer handle the loop runs on, for injecting from elsewhere.
struct injector {
  std::shared_ptr<windivert_library> lib;
  void* handle = nullptr;
  std::shared_ptr<const void> keep;  ///< holds the handle open while this lives
};

class capture_state {
 public:
  port_table ports;  ///< the loop's per-local-port decisions (lock-free)
  /// The loopback port the loop forwards taken datagrams from: receive_udp
  /// accepts those only.
  std::atomic<uint16_t> forward_port{0};

  void set_listeners(uint16_t tcp, uint16_t udp);
  uint16_t tcp_listener() const;
  uint16_t udp_listener() const;

  void put_nat(const socket_key& k, const nat_entry& e);
  std::optional<nat_entry> nat(const socket_key& k) const;
  void erase_nat(const socket_key& k);

  /// The SOCKET layer's report of which process holds a local socket.
  void put_owner(const socket_key& k, uint32_t pid);
  std::optional<uint32_t> owner(const socket_key& k) const;
  /// The socket closed: its owner, NAT entry and decision go.
  void forget(const socket_key& k);

  void set_injector(std::shared_ptr<injector> i);
  std::shared_ptr<injector> current_injector() const;

  /// The NETWORK-layer filter of the installed redirect, and a number that
  /// changes with it: a running capture reopens its handle on a new one.
  void set_filter(std::string f);
  std::pair<std::string, uint64_t> filter() const;

  /// For dumps: the filter last built (even if it was not installed) and how
  /// the DLL loaded ("" until tried).
  void set_diagnostics(std::string planned_filter, std::string library);
  std::pair<std::string, std::string> diagnostics() const;

 private:
  mutable std::mutex mutex_;
  std::atomic<uint16_t> tcp_{0}, udp_{0};                             // read per packet: no lock
  std::unordered_map<socket_key, nat_entry, socket_key_hash> nat_;    // guarded by mutex_
  std::unordered_map<socket_key, uint32_t, socket_key_hash> owners_;  // guarded by mutex_
  std::shared_ptr<injector> injector_;                                // guarded by mutex_
  std::string filter_;                                                // guarded by mutex_
  uint64_t filter_generation_ = 0;                                    // guarded by mutex_
  std::string planned_filter_, library_;                              // guarded by mutex_
};

capture_state& shared_capture();

/// The datagrams the loop takes reach the UDP listener over loopback from
/// its forwarding socket, each behind this header (the app's socket and
/// where it sent the datagram): receive_udp reads it back.
constexpr size_t forward_header_len = 4 + 1 + 16 + 2 + 16 + 2;
constexpr uint32_t forward_magic = 0x44525631;  // "DRV1"

/// The header for a datagram `v` took (its source and destination), written
/// to `out` (forward_header_len bytes): the one writer of the format.
void write_forward_header(const packet::view& v, uint8_t* out);
struct forwarded {
  endpoint source;        ///< the app's socket
  endpoint original_dst;  ///< where the app sent the datagram
};
/// The header read back; nothing when `len` is too short or it is not ours.
std::optional<forwarded> read_forward_header(const uint8_t* in, size_t len);

}  // namespace drover::platform::win
