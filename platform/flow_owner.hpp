#pragma once
/// Which process owns the socket that sent a packet.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/packet.hpp"
#include "core/result.hpp"

namespace drover::platform {

/// What the capture knows of a packet's sender besides the packet itself.
struct packet_origin {
  /// The sending socket's user, where the capture tells it (Linux: NFQUEUE's
  /// NFQA_UID). A socket found by the packet's port under another user is
  /// not the sender: its port was taken after the sender closed it.
  std::optional<uint32_t> uid;
};

class flow_owner {
 public:
  virtual ~flow_owner() = default;
  /// The owning pid of the packet's source socket. `candidates` are searched
  /// first; if none owns it, processes whose executable `is_target` accepts
  /// are searched (a target that started a moment ago); otherwise 0 is
  /// returned (the owner is not a target). An error means the owner cannot
  /// be told (no socket found while targets run, the lookup failed): the
  /// caller must not send such a flow direct.
  virtual result<uint32_t> owner(const packet::view& v, const packet_origin& from,
                                 const std::vector<uint32_t>& candidates,
                                 const std::function<bool(const std::string&)>& is_target) = 0;
  /// True when the OS tells us of new processes, so a flow no known target
  /// owns is checked against the newcomers only, not every process.
  virtual bool reports_new_processes() const = 0;
};

std::unique_ptr<flow_owner> make_flow_owner();

}  // namespace drover::platform
