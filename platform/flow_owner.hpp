#pragma once
/// Which process owns the socket that sent a packet.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/packet.hpp"
#include "core/result.hpp"

namespace drover::platform {

class flow_owner {
 public:
  virtual ~flow_owner() = default;
  /// The owning pid of the packet's source socket. `candidates` are searched
  /// first; if none owns it, processes whose executable `is_target` accepts
  /// are searched (a target that started a moment ago); otherwise 0 is
  /// returned (the owner is not a target). An error means the owner cannot
  /// be told (no socket found while targets run, the lookup failed): the
  /// caller must not send such a flow direct.
  virtual result<uint32_t> owner(const packet::view& v, const std::vector<uint32_t>& candidates,
                                 const std::function<bool(const std::string&)>& is_target) = 0;
  /// True when the OS tells us of new processes, so a flow no known target
  /// owns is checked against the newcomers only, not every process.
  virtual bool reports_new_processes() const = 0;
};

std::unique_ptr<flow_owner> make_flow_owner();

}  // namespace drover::platform
