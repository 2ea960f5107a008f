#pragma once
/// The tray actor: one for both OSes. It turns what the engine says into a
/// tray::view for the platform icon, and a picked menu item into a control
/// request or a desktop action. It knows nothing of how it reaches the engine
/// (in process on Windows, the control socket on Linux): `tray_env` carries
/// that, so a test drives it with fakes.
#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "core/tray_model.hpp"
#include "messages/messages.hpp"

namespace drover {

namespace platform {
class tray_icon;
}

struct tray_env {
  std::shared_ptr<platform::tray_icon> icon;
  /// Sends a control-protocol request; `done` gets the answer line (or an
  /// {"error":...} line) once, from any thread. Must not block.
  std::function<void(const std::string& request, std::function<void(std::string)> done)> request;
  /// Whether the login start is on; error code "unsupported" where there is none.
  std::function<result<bool>()> autostart_on;
  std::function<status(bool on)> set_autostart;
  /// Opens a file with the desktop's default program (config, log, dump).
  std::function<status(const std::string& path)> open;
  /// Quit: Windows stops the engine and exits; Linux ends the tray only.
  std::function<void()> quit;
  /// Remembers that the first-start notification was shown (ui.shown_tray_toast).
  std::function<void()> toast_shown;
  tray::flavour os = tray::flavour::windows;
  std::string version;
  bool show_first_toast = false;
  /// How often the engine's status is asked for while no change arrives
  /// (the menu's rates); 1 s.
  caf::timespan poll = std::chrono::seconds(1);
};

/// Spawns the tray. It shows a first view at once (grey, "connecting") and
/// asks the engine's status every `env.poll`.
tray_actor spawn_tray(caf::actor_system& sys, tray_env env);

/// What a status line says, for the model: `{"error":...}` or something that
/// is not a status means no engine answers.
tray::engine_view parse_engine_view(const std::string& status_line);

}  // namespace drover
