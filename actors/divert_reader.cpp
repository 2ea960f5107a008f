#include "actors/divert_reader.hpp"
#include "actors/exceptions.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "core/packet.hpp"
#include "platform/flow_owner.hpp"

namespace drover {

flow_classifier::flow_classifier(std::shared_ptr<engine_shared> shared)
    : shared_(std::move(shared)), owner_(platform::make_flow_owner()) {
  if (owner_->reports_new_processes())
    spdlog::info("flow owner: new processes reported by the kernel");
  else
    spdlog::warn(
        "flow owner: the kernel reports no new processes here; each flow no target owns costs a scan of "
        "every process");
}
flow_classifier::~flow_classifier() = default;

platform::verdict flow_classifier::classify(const uint8_t* data, size_t len) {
  auto& c = shared_->counters;
  auto v = packet::parse(data, len);
  if (!v || v->proto == packet::l4_proto::other) {
    c.direct++;
    return platform::verdict::direct;
  }
  auto pid = owner_->owner(*v, shared_->targets(), [this](const std::string& exe) { return shared_->is_target(exe); });
  if (!pid || *pid == 0) {
    c.direct++;
    return platform::verdict::direct;
  }
  shared_->add_target(*pid);
  // IPv6 of a target is refused fast so the app falls back to IPv4 at once;
  // while not Active, targets are refused: never direct.
  if (v->version == packet::ip_version::v6 || !shared_->active.load(std::memory_order_acquire)) {
    c.refused++;
    return platform::verdict::refuse;
  }
  c.redirected++;
  return v->proto == packet::l4_proto::tcp ? platform::verdict::redirect_tcp : platform::verdict::redirect_udp;
}

namespace {

// The capture thread and its handle; destruction unblocks and joins it.
struct reader_thread {
  std::unique_ptr<platform::divert> handle;
  std::thread thread;
  ~reader_thread() {
    if (handle) handle->shutdown();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

divert_reader_actor::behavior_type divert_reader(divert_reader_actor::pointer self,
                                                 std::shared_ptr<engine_shared> shared, supervisor_actor parent,
                                                 platform::divert_options opts) {
  report_exceptions(self);
  auto rt = std::make_shared<reader_thread>();
  auto opened = platform::open_divert(opts);
  if (!opened) {
    self->send(parent, divert_lost{opened.err().message, true});
    self->quit();
    return {[](close_atom) {}};
  }
  rt->handle = std::move(*opened);
  auto* handle = rt->handle.get();
  rt->thread = std::thread([handle, shared, parent] {
    flow_classifier classifier(shared);
    auto st = handle->run([&](const uint8_t* d, size_t n) { return classifier.classify(d, n); });
    if (!st) {
      spdlog::error("divert: {}", st.err().message);
      caf::anon_send(parent, divert_lost{st.err().message, st.err().code == "driver_gone"});
    }
  });
  // On exit: unblock the capture loop and join its thread.
  self->attach_functor([rt]() mutable { rt.reset(); });
  return {
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace drover
