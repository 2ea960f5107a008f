#pragma once
/// Decides one new flow from its first packet: who owns it, and so whether
/// it is redirected, sent direct or refused. Runs on the capture thread;
/// OS-neutral (the owner lookup is the platform's).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/engine_shared.hpp"
#include "core/flow_verdict.hpp"
#include "core/log_gate.hpp"
#include "platform/flow_owner.hpp"

namespace drover {

class flow_classifier {
 public:
  flow_classifier(std::shared_ptr<engine_shared> shared, std::unique_ptr<platform::flow_owner> owner);
  ~flow_classifier();
  flow_classifier(const flow_classifier&) = delete;
  flow_classifier& operator=(const flow_classifier&) = delete;
  /// The verdict for `data` (a first packet, possibly cut to its headers);
  /// counts it in the shared counters.
  verdict classify(const uint8_t* data, size_t len, const platform::packet_origin& from = {});

 private:
  void report_unattributed(const char* why, const std::string& detail);

  std::shared_ptr<engine_shared> shared_;
  std::unique_ptr<platform::flow_owner> owner_;
  log_gate unattributed_log_{5, std::chrono::minutes(1)};
};

}  // namespace drover
