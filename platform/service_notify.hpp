#pragma once
/// Tells the service manager how the engine is doing (systemd's Type=notify:
/// READY, STATUS, STOPPING). Each call does nothing when the
/// engine was not started by one (no NOTIFY_SOCKET), so `drover run` from a
/// shell behaves the same.
#include <string>

namespace drover::platform {

/// The engine is up: its rules are in place (or the start has definitely
/// failed and `status` says why, so the manager stops waiting).
void notify_ready(const std::string& status);
/// A one-line state for `systemctl status`.
void notify_status(const std::string& status);
/// The engine is on its way out.
void notify_stopping();

}  // namespace drover::platform
