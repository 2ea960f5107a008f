#pragma once
/// The actor of one redirected flow (TCP or UDP): it lives as long as its
/// session on the data plane and closes the session when it is told to stop.
/// No message per packet: it hears only that the flow ended.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "messages/messages.hpp"

namespace drover {

flow_relay_actor::behavior_type flow_relay(flow_relay_actor::pointer self, std::function<void()> close_session,
                                           uint64_t id, std::string what);

/// On the io thread: spawns the flow's actor and starts the session; proxy
/// failures go to `parent`. `Session` is tcp_session or udp_session.
template <class Session>
void launch_flow(caf::actor_system& sys, const std::shared_ptr<Session>& session, supervisor_actor parent,
                 const char* proto) {
  std::weak_ptr<Session> weak = session;
  // Lazy: the actor is scheduled only when it first hears from the session,
  // so accepting a flow wakes no scheduler thread.
  auto actor =
      sys.spawn<caf::lazy_init>(flow_relay, std::function<void()>([weak] {
                                  if (auto s = weak.lock()) s->post_close();
                                }),
                                session->id(), std::string(proto) + " to " + session->original_dst().to_string());
  session->start([actor, parent](relay_closed rc, std::optional<upstream_failure> f) {
    if (f) caf::anon_send(parent, *f);
    caf::anon_send(actor, std::move(rc));
  });
}

}  // namespace drover
