#pragma once
/// The tray as a front end: the platform icon, the tray actor and the client
/// that reaches the engine, put together and taken apart in the right order.
/// `drover run` opens it on Windows (one process is engine and tray);
/// `drover tray` on Linux (a desktop-session client of the service).
#include <caf/all.hpp>

#include <memory>
#include <string>

#include "app/engine_client.hpp"
#include "core/result.hpp"
#include "core/tray_model.hpp"
#include "messages/messages.hpp"

namespace drover::platform {
class tray_icon;
}

namespace drover::app {

struct tray_front_options {
  tray::flavour os = tray::flavour::windows;
  /// Whether ui.shown_tray_toast is set in the config (the notice is also
  /// remembered in the user's state directory once shown).
  bool toast_already_shown = false;
};

class tray_front {
 public:
  /// Opens the platform tray on the calling thread (Windows: the main-loop
  /// thread, whose pump serves the icon's window), then the actor in `sys`.
  static result<std::unique_ptr<tray_front>> open(caf::actor_system& sys, std::unique_ptr<engine_client> client,
                                                  const tray_front_options& o);
  /// Stops the actor, then the client, then the icon, on the calling thread.
  ~tray_front();
  tray_front(const tray_front&) = delete;
  tray_front& operator=(const tray_front&) = delete;

  /// A second launch asked us to show ourselves: say where we are.
  void show_yourself();

 private:
  tray_front() = default;
  struct slot;
  caf::actor_system* sys_ = nullptr;
  std::shared_ptr<slot> slot_;
  std::shared_ptr<platform::tray_icon> icon_;
  std::unique_ptr<engine_client> client_;
  tray_actor actor_;
};

}  // namespace drover::app
