#include "actors/flow_classifier.hpp"

#include <spdlog/spdlog.h>

#include "core/packet.hpp"
#include "platform/flow_owner.hpp"

namespace drover {

flow_classifier::flow_classifier(std::shared_ptr<engine_shared> shared, std::unique_ptr<platform::flow_owner> owner)
    : shared_(std::move(shared)), owner_(std::move(owner)) {
  if (owner_->reports_new_processes())
    spdlog::info("flow owner: new processes reported by the OS");
  else
    spdlog::warn(
        "flow owner: the OS reports no new processes here; each flow no target owns costs a scan of "
        "every process");
}
flow_classifier::~flow_classifier() = default;

verdict flow_classifier::classify(const uint8_t* data, size_t len, const platform::packet_origin& from) {
  auto& c = shared_->counters;
  flow_verdict::facts f;
  f.active = shared_->active.load(std::memory_order_acquire);
  f.udp_available = shared_->udp_available.load(std::memory_order_acquire);
  // The queue holds only the packet's first bytes: headers are all we need.
  auto v = packet::parse_headers(data, len);
  std::string detail;
  if (v) {
    f.parsed = true;
    f.version = v->version;
    f.proto = v->proto;
    f.tcp_established = v->proto == packet::l4_proto::tcp && (v->tcp_flags & packet::tcp_syn) == 0;
  } else {
    detail = v.err().message;
  }
  if (f.parsed && f.proto != packet::l4_proto::other) {
    auto pid =
        owner_->owner(*v, from, shared_->targets(), [this](const std::string& exe) { return shared_->is_target(exe); });
    if (!pid) {
      f.owner = flow_verdict::ownership::unknown;
      detail = packet::addr_to_string(*v, true) + ":" + std::to_string(v->src_port) + " -> " +
               packet::addr_to_string(*v, false) + ":" + std::to_string(v->dst_port) + ": " + pid.err().message;
    } else if (*pid == 0) {
      f.owner = flow_verdict::ownership::not_target;
    } else {
      f.owner = flow_verdict::ownership::target;
      shared_->add_target(*pid);
    }
  }
  auto d = flow_verdict::decide(f);
  switch (d.why) {
    case flow_verdict::reason::unparseable:
    case flow_verdict::reason::owner_unknown:
      c.unattributed++;
      c.refused++;
      report_unattributed(flow_verdict::to_string(d.why), detail);
      break;
    case flow_verdict::reason::not_target:
      c.direct++;
      break;
    case flow_verdict::reason::none:
      c.redirected++;
      break;
    default:
      c.refused++;
      break;
  }
  return d.v;
}

void flow_classifier::report_unattributed(const char* why, const std::string& detail) {
  uint64_t held_back = 0;
  if (!unattributed_log_.admit(log_gate::clock::now(), held_back)) return;
  spdlog::warn("capture: a new flow refused, {}: {}{}", why, detail,
               held_back ? " (" + std::to_string(held_back) + " more since the last report)" : "");
}

}  // namespace drover
