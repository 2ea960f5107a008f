#include "actors/flow_relay.hpp"

#include <spdlog/spdlog.h>

#include "actors/exceptions.hpp"

namespace drover {

flow_relay_actor::behavior_type flow_relay(flow_relay_actor::pointer self, std::function<void()> close_session,
                                           uint64_t id, std::string what) {
  report_exceptions(self);
  self->attach_functor([close_session] { close_session(); });
  return {
      [self, id, what](relay_closed rc) {
        spdlog::debug("flow {}: {} closed ({} B in, {} B out){}{}", id, what, rc.bytes_in, rc.bytes_out,
                      rc.error.empty() ? "" : ": ", rc.error);
        self->quit();
      },
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace drover
