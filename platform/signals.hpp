#pragma once
/// Requests from the OS: stop (SIGINT/SIGTERM; console events on Windows)
/// and reload (SIGHUP, the daemon convention).
namespace drover::platform {

enum class os_request { none, stop, reload };

/// Blocks these signals in this thread and every thread it creates
/// afterwards, so only wait_os_request() sees them. Call first in main.
void block_stop_signals();
/// Waits up to `timeout_ms` for one of them.
os_request wait_os_request(int timeout_ms);

}  // namespace drover::platform
