#include "app/control_front.hpp"

#include <atomic>
#include <memory>

#include "platform/paths.hpp"
#include "platform/service_notify.hpp"

namespace drover::app {
namespace {

// The one line `systemctl status` shows.
std::string service_line(const status_snapshot& s) {
  std::string line = s.state;
  if (!s.detail.empty()) line += ": " + s.detail;
  if (s.state != "Active" && !s.last_error.empty()) line += " (" + s.last_error + ")";
  return line;
}

}  // namespace

status control_front::listen() {
  auto path = platform::control_socket_listen_path();
  if (!path) return path.err();
  return server_.listen(*path);
}

void control_front::attach(engine_host& host) {
  host.subscribe([this, &host](const status_snapshot&) { server_.publish(host.status().dump()); });
}

void control_front::serve(control_context ctx) {
  server_.serve([ctx = std::move(ctx)](const std::string& req, platform::control_server::reply_fn reply) {
    handle_control_request(ctx, req, std::move(reply));
  });
}

void attach_service_manager(engine_host& host) {
  auto ready = std::make_shared<std::atomic<bool>>(false);
  host.subscribe([ready](const status_snapshot& s) {
    bool started = s.state != "Idle" && s.state != "Starting";
    if (started && !ready->exchange(true))
      platform::notify_ready(service_line(s));
    else
      platform::notify_status(service_line(s));
  });
}

}  // namespace drover::app
