#pragma once
#include <memory>

#include "actors/engine_shared.hpp"
#include "core/log_gate.hpp"
#include "messages/messages.hpp"
#include "platform/divert.hpp"

namespace drover {
namespace platform {
class flow_owner;
}

/// Decides one new flow from its first packet: who owns it, and so whether
/// it is redirected, sent direct or refused. Runs on the capture thread.
class flow_classifier {
 public:
  explicit flow_classifier(std::shared_ptr<engine_shared> shared);
  ~flow_classifier();
  platform::verdict classify(const uint8_t* data, size_t len);

 private:
  void report_unattributed(const char* why, const std::string& detail);

  std::shared_ptr<engine_shared> shared_;
  std::unique_ptr<platform::flow_owner> owner_;
  log_gate unattributed_log_{5, std::chrono::minutes(1)};
};

/// Spawned detached: runs the capture loop on its own thread and tells the
/// supervisor when the handle is lost.
divert_reader_actor::behavior_type divert_reader(divert_reader_actor::pointer self,
                                                 std::shared_ptr<engine_shared> shared, supervisor_actor parent,
                                                 platform::divert_options opts);

}  // namespace drover
