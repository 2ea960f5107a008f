#pragma once
/// The main thread's loop. Linux: a wait for signals (SIGINT and SIGTERM stop,
/// SIGHUP reloads, the daemon convention). Windows: a message pump (console
/// control events, the session ending; the tray window lives on this thread).
#include <functional>

namespace drover::platform {

enum class os_request {
  none,    ///< a tick: nothing arrived
  stop,    ///< end the program (signal, console close, log-off, a posted quit)
  reload,  ///< read the config again
  show,    ///< a second launch asked this instance to show itself
};

/// Call first in main. Linux: blocks the stop signals in this thread and every
/// thread created afterwards, so only the loop sees them, and ignores SIGPIPE
/// (a client that goes away must not kill us). Windows: installs the console
/// control handler (Ctrl+C, console close, log-off, shutdown → stop).
void prepare_main_thread();

/// Runs on the calling thread until `on_request` returns false. It is called
/// with each request and with `none` at least every `tick_ms`, so its owner
/// can check its own exit conditions. `stop` is where the owner shuts down:
/// on Windows the session's end (WM_ENDSESSION) calls it from inside the
/// window's message, since the process may be ended as soon as that returns;
/// the loop then ends whatever it returned.
void run_main_loop(const std::function<bool(os_request)>& on_request, int tick_ms = 50);

/// Hands `r` to the running loop from any thread (seen within one tick).
void post_main_loop(os_request r);

}  // namespace drover::platform
