#pragma once
/// Stop requests from the OS (SIGINT/SIGTERM; console events on Windows).
namespace drover::platform {

/// Blocks the stop signals in this thread and every thread it creates
/// afterwards, so only wait_stop_signal() sees them. Call first in main.
void block_stop_signals();
/// Waits up to `timeout_ms` for a stop signal; true if one arrived.
bool wait_stop_signal(int timeout_ms);

}  // namespace drover::platform
