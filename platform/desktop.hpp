#pragma once
/// What the tray asks of the user's desktop.
#include <string>

#include "core/result.hpp"

namespace drover::platform {

/// Opens `path` with the desktop's default program and does not wait for it
/// (Linux: xdg-open; Windows: ShellExecuteW "open").
status open_with_desktop(const std::string& path);

/// The user's own small state (the tray's "first start" notice), created:
/// Linux $XDG_STATE_HOME/drover or ~/.local/state/drover; Windows
/// %APPDATA%\Drover, beside the user's config.
result<std::string> user_state_dir();

/// Windows: true, one elevated drover.exe is engine and tray. Linux: false,
/// the engine is a service and `drover tray` a client in the user's session.
bool tray_in_engine_process();

}  // namespace drover::platform
