#pragma once
/// The packet-capture seam: the first packet of each new flow comes up from
/// the OS, the engine answers with a verdict. Linux: NFQUEUE; Windows:
/// WinDivert; tests: a fake.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/flow_verdict.hpp"
#include "core/result.hpp"

namespace drover::platform {

using verdict = ::drover::verdict;

class divert {
 public:
  virtual ~divert() = default;
  using classify_fn = std::function<verdict(const uint8_t* packet, size_t len)>;
  /// Receives and classifies until shutdown() (returns ok) or the handle is
  /// lost (returns an error whose code is "driver_lost" or "driver_gone").
  virtual status run(const classify_fn& classify) = 0;
  /// Makes run() return; callable from any thread.
  virtual void shutdown() = 0;
};

struct divert_options {
  uint16_t queue_num = 0;
  size_t receive_buffer = 8u << 20;  ///< netlink receive buffer (bytes)
  uint32_t max_queue_len = 4096;
};

/// Opens the platform's capture (binds NFQUEUE `queue_num` on Linux).
result<std::unique_ptr<divert>> open_divert(const divert_options& opts);

}  // namespace drover::platform
