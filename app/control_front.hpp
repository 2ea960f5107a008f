#pragma once
/// The front ends `drover run` puts before its engine host: the control
/// channel (the CLI verbs and the tray on Linux) and the service manager
/// (systemd's READY/STATUS; nothing on Windows).

#include "app/engine_host.hpp"
#include "core/result.hpp"
#include "platform/control_socket.hpp"

namespace drover::app {

class control_front {
 public:
  /// Binds the control channel without serving yet, so a taken or bad path
  /// refuses the start before anything runs.
  status listen();
  /// Publishes every state change to the channel's watchers; before start.
  void attach(engine_host& host);
  /// Answers requests from now on (they reach `host` through `ctx`).
  void serve(control_context ctx);
  /// Closes every client and the channel; `drover stop` returns once it is gone.
  void stop() { server_.stop(); }

 private:
  platform::control_server server_;
};

/// Tells the service manager READY once the engine has left Starting (its
/// rules are in place, or the start failed and status says why) and STATUS on
/// every change after.
void attach_service_manager(engine_host& host);

}  // namespace drover::app
