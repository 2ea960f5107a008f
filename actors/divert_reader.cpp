#include "actors/divert_reader.hpp"
#include "actors/exceptions.hpp"
#include "actors/flow_classifier.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "platform/flow_owner.hpp"
#include "platform/redirect.hpp"

namespace drover {

namespace {

// The capture thread and its handle; destruction unblocks and joins it.
struct reader_thread {
  std::unique_ptr<platform::flow_capture> handle;
  std::thread thread;
  ~reader_thread() {
    if (handle) handle->shutdown();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

divert_reader_actor::behavior_type divert_reader(divert_reader_actor::pointer self,
                                                 std::shared_ptr<engine_shared> shared, supervisor_actor parent) {
  report_exceptions(self);
  auto rt = std::make_shared<reader_thread>();
  auto opened = platform::open_flow_capture();
  if (!opened) {
    self->send(parent, divert_lost{opened.err().message, true});
    self->quit();
    return {[](close_atom) {}};
  }
  rt->handle = std::move(*opened);
  auto* handle = rt->handle.get();
  rt->thread = std::thread([handle, shared, parent] {
    flow_classifier classifier(shared, platform::make_flow_owner());
    auto st = handle->run([&](const uint8_t* d, size_t n, const platform::packet_origin& from) {
      return classifier.classify(d, n, from);
    });
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
