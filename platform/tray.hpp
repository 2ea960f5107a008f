#pragma once
/// The notification-area icon and its menu, rendering a tray::view.
/// Windows: Shell_NotifyIconW on a hidden window of the main loop's thread,
/// TrackPopupMenu, re-added when explorer restarts (TaskbarCreated).
/// Linux: a StatusNotifierItem through libayatana-appindicator3, its GTK loop
/// on a thread of its own. Tests use a fake of this interface.
#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "core/tray_model.hpp"

namespace drover::platform {

class tray_icon {
 public:
  virtual ~tray_icon() = default;
  /// Shows `v` (icon, tooltip, menu). Any thread; the newest view wins and
  /// the icon follows within 200 ms. Labels are UTF-8.
  virtual void show(const tray::view& v) = 0;
  /// A desktop notification / balloon ("Drover lives here", a check's result).
  virtual void notify(const std::string& title, const std::string& text) = 0;
};

struct tray_callbacks {
  /// An item was picked. Called on the tray's own thread: must not block
  /// (hand the work to an actor).
  std::function<void(tray::item_id)> clicked;
  /// The menu opened (true) or closed (false): the status row is refreshed
  /// every second while it is open. May never be called where the host does
  /// not say.
  std::function<void(bool)> menu_open;
  /// The desktop session went away under the tray (Linux: its D-Bus session
  /// bus closed): nothing can show it any more. Called at most once, on the
  /// tray's own thread; the tray may be destroyed afterwards as usual.
  std::function<void(const std::string& why)> lost;
};

/// The platform's tray. Errors: Linux "no_session" (no D-Bus session bus or
/// no display: the message says which and what to do), "already_running"
/// (another process's tray holds this session), "failed" (GTK or the host
/// would not start it, or a second tray in one process); Windows "no_tray"
/// (the shell refused the icon).
result<std::unique_ptr<tray_icon>> open_tray(tray_callbacks cb);

}  // namespace drover::platform
