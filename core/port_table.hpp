#pragma once
/// The per-packet decision cache of the Windows capture: one slot per
/// (family, protocol, local port), so a decided flow's packet costs one
/// array read: no hash, no allocation, no lock. Slots are atomics because
/// the SOCKET-layer thread writes decisions (connect/bind) and clears them
/// (close) while the packet loop reads them.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/flow_table.hpp"
#include "core/flow_verdict.hpp"
#include "core/packet.hpp"

namespace drover {

/// One local port's decision.
struct port_decision {
  verdict v = verdict::refuse;
  /// redirect_tcp: the original destination port, restored on the
  /// listener's replies (the address travels in the packet itself).
  uint16_t orig_port = 0;
};

/// Family is part of the key: an IPv4 and an IPv6 socket may hold the same
/// port number, and one's decision must never steer the other's packets.
class port_table {
 public:
  /// Allocates every slot once (1 MB), all undecided.
  port_table() : slots_(new std::atomic<uint32_t>[slot_count]) { clear_all(); }

  /// The decision for a local port, or nothing while it is undecided.
  std::optional<port_decision> find(packet::ip_version f, flow_proto p, uint16_t port) const {
    uint32_t s = slots_[index(f, p, port)].load(std::memory_order_acquire);
    if ((s & decided_bit) == 0) return std::nullopt;
    return port_decision{static_cast<verdict>((s >> 16) & 0xff), static_cast<uint16_t>(s & 0xffff)};
  }
  void set(packet::ip_version f, flow_proto p, uint16_t port, port_decision d) {
    uint32_t s = decided_bit | static_cast<uint32_t>(d.v) << 16 | d.orig_port;
    slots_[index(f, p, port)].store(s, std::memory_order_release);
  }
  /// The socket closed: its port's next owner is decided afresh.
  void clear(packet::ip_version f, flow_proto p, uint16_t port) {
    slots_[index(f, p, port)].store(0, std::memory_order_release);
  }
  void clear_all() {
    for (size_t i = 0; i < slot_count; ++i) slots_[i].store(0, std::memory_order_relaxed);
  }

 private:
  static constexpr size_t slot_count = 4 * 65536;
  static constexpr uint32_t decided_bit = 1u << 24;
  static size_t index(packet::ip_version f, flow_proto p, uint16_t port) {
    size_t block = (f == packet::ip_version::v6 ? 2u : 0u) + (p == flow_proto::udp ? 1u : 0u);
    return block << 16 | port;
  }
  std::unique_ptr<std::atomic<uint32_t>[]> slots_;
};

}  // namespace drover
