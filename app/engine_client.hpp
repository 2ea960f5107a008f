#pragma once
/// How a front end other than the control channel (the tray) reaches the
/// engine: in process on Windows, where one drover.exe is engine and tray;
/// over the control socket on Linux, where `drover tray` runs as the desktop
/// user beside the root service (docs/control-protocol.md).
#include <functional>
#include <memory>
#include <string>

#include "app/control_requests.hpp"

namespace drover::app {

namespace detail {
struct client_gate;
}

class engine_client {
 public:
  using sink = std::function<void(std::string)>;
  virtual ~engine_client() = default;
  /// Sends one control request; `done` gets the answer line, or an
  /// {"error":...} line, exactly once, from another thread — unless the
  /// client is destroyed first, which drops it without calling it.
  virtual void request(const std::string& request, sink done) = 0;
  /// Every status change as a status line (an {"error":...} line while no
  /// engine can be reached), from another thread, until destroyed.
  virtual void watch(sink on_status) = 0;
};

/// The Linux tray's client: one connection per request, and a `watch`
/// connection that is re-opened every second while the engine is away.
std::unique_ptr<engine_client> make_socket_client(std::string socket_path);

/// The Windows tray's client: requests go straight to the engine host's
/// control handler. The host calls `publish` (through its subscribe) on
/// every change.
class in_process_client final : public engine_client {
 public:
  /// Subscribed to the host before it starts (so no change is missed);
  /// connected once it has started, when its control context is complete.
  in_process_client();
  ~in_process_client() override;
  void connect(control_context ctx) { ctx_ = std::move(ctx); }
  void request(const std::string& request, sink done) override;
  void watch(sink on_status) override;
  /// A new status line from the host.
  void publish(const std::string& line);
  /// `publish` as a function that stays safe to call after the client is
  /// gone (it then does nothing): what the host's subscription holds.
  std::function<void(const std::string&)> publisher() const;

 private:
  control_context ctx_;
  std::shared_ptr<detail::client_gate> gate_;
};

}  // namespace drover::app
