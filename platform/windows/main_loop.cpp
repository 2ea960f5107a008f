// The main thread's message pump. Requests wait in one queue under a mutex
// (so none is lost before the loop runs, or while a modal loop such as the
// tray's menu pumps instead of us); a message to the loop's hidden window
// and an event only wake the thread. A window rather than
// PostThreadMessageW: modal loops drop thread messages but dispatch window
// messages. The event as well: the window may not exist (Wine without a
// display, its first start of a desktop took seconds and then failed), and
// requests must still arrive at once. The same window receives sleep and
// resume (WM_POWERBROADCAST), so power events are handled on this thread.
// A stop also ends the tray's menu if it is open: its modal loop
// (TrackPopupMenuEx) pumps instead of us until it closes, and a stop must
// not wait for the user.
#include "platform/main_loop.hpp"

#include <windows.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

#include "platform/windows/power_broadcast.hpp"
#include "platform/windows/win_handle.hpp"
#include "platform/windows/window_class.hpp"

namespace drover::platform {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr UINT wake_message = WM_APP + 1;
constexpr UINT stop_message = WM_APP + 2;  // wakes, and ends a modal menu loop
// After CTRL_CLOSE_EVENT Windows ends the process about 5 s later, or as
// soon as the handler returns: waiting lets the loop stop and main clean up
// (its exit ends this thread earlier).
constexpr DWORD close_grace_ms = 5000;

std::mutex mutex;
std::deque<os_request> pending;  // guarded by mutex
HWND loop_window = nullptr;      // guarded by mutex; null while no loop runs

// The running loop's handler and whether the session's end has already
// called it with stop: the loop's own thread only.
const std::function<bool(os_request)>* loop_handler = nullptr;
bool session_ended = false;

// Auto-reset, for the process's lifetime (never closed: the console
// handler's thread may use it until the very end).
HANDLE wake_event() {
  static HANDLE event = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
  return event;
}

void push(os_request r, bool wake) {
  std::lock_guard<std::mutex> lock(mutex);
  pending.push_back(r);
  if (!wake) return;
  if (loop_window) ::PostMessageW(loop_window, r == os_request::stop ? stop_message : wake_message, 0, 0);
  if (HANDLE e = wake_event()) ::SetEvent(e);
}

// On the loop's thread, which owns the tray's menu: EndMenu ends only the
// calling thread's menu, so other threads post stop_message to get here.
// Nothing happens when no menu is open.
void push_stop_here() {
  push(os_request::stop, false);
  ::EndMenu();
}

std::optional<os_request> pop() {
  std::lock_guard<std::mutex> lock(mutex);
  if (pending.empty()) return std::nullopt;
  os_request r = pending.front();
  pending.pop_front();
  return r;
}

// Runs on a thread the system creates for the event. TRUE: handled, so
// Ctrl+C does not kill us before the engine has removed its capture.
BOOL WINAPI on_console_event(DWORD type) {
  push(os_request::stop, true);
  if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) ::Sleep(close_grace_ms);
  return TRUE;
}

LRESULT CALLBACK window_proc(HWND window, UINT msg, WPARAM wparam, LPARAM lparam) {
  switch (msg) {
    case WM_QUERYENDSESSION:  // log-off, shutdown, or an installer's restart manager
      push_stop_here();
      return TRUE;
    case WM_ENDSESSION:
      // The system may end the process as soon as this returns: the stop
      // runs now, inside this message, not at the loop's next turn.
      if (wparam && loop_handler && !session_ended) {
        session_ended = true;
        (*loop_handler)(os_request::stop);
      }
      return 0;
    case WM_CLOSE:  // taskkill without /F: the polite way to ask us to quit
      push_stop_here();
      return 0;
    case WM_POWERBROADCAST:
      win::on_power_broadcast(wparam);
      return TRUE;
    case stop_message:  // a stop from another thread (drover stop, Ctrl+C, Quit)
      ::EndMenu();
      return 0;
    case wake_message:
      return 0;
    default:
      return ::DefWindowProcW(window, msg, wparam, lparam);
  }
}

void install_console_handler() {
  static std::once_flag once;
  std::call_once(once, [] { ::SetConsoleCtrlHandler(on_console_event, TRUE); });
}

// A message-only window gets no broadcasts: sleep and resume are sent to it
// alone once it is registered. Undone before the window goes.
void unregister_power(void* h) noexcept { ::UnregisterSuspendResumeNotification(h); }
using unique_power_registration = win::unique_handle_of<unregister_power>;

// Hidden and top-level (not message-only): only those get the session's
// broadcasts, the power broadcasts and taskkill's WM_CLOSE. The tray's icon
// has a window of its own class on this thread (platform/windows/tray.cpp). Where no top-level window can
// exist (no desktop: Wine without a display) a message-only one still wakes
// the loop and, registered for them, gets sleep and resume.
HWND create_window(unique_power_registration& power) {
  win::register_window_class(win::main_window_class, window_proc);
  HINSTANCE instance = ::GetModuleHandleW(nullptr);
  HWND window = ::CreateWindowExW(0, win::main_window_class, L"Drover", WS_OVERLAPPED, 0, 0, 0, 0, nullptr, nullptr,
                                  instance, nullptr);
  if (window) return window;
  window =
      ::CreateWindowExW(0, win::main_window_class, L"Drover", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr, instance, nullptr);
  if (window) power.reset(::RegisterSuspendResumeNotification(window, DEVICE_NOTIFY_WINDOW_HANDLE));
  return window;
}

void pump_messages() {
  MSG m;
  while (::PeekMessageW(&m, nullptr, 0, 0, PM_REMOVE)) {
    if (m.message == WM_QUIT) {
      push(os_request::stop, false);
      continue;
    }
    ::TranslateMessage(&m);
    ::DispatchMessageW(&m);
  }
}

}  // namespace

void prepare_main_thread() { install_console_handler(); }

void run_main_loop(const std::function<bool(os_request)>& on_request, int tick_ms) {
  install_console_handler();
  // Without any window requests still arrive, within a tick.
  win::unique_window window;
  unique_power_registration power;  // declared after the window: goes first
  window.reset(create_window(power));
  {
    std::lock_guard<std::mutex> lock(mutex);
    loop_window = static_cast<HWND>(window.get());
  }
  loop_handler = &on_request;
  session_ended = false;
  const auto tick = std::chrono::milliseconds(std::max(tick_ms, 1));
  auto next_tick = clock_type::now() + tick;
  bool running = true;
  while (running) {
    while (running) {
      auto r = pop();
      if (!r) break;
      running = on_request(*r);
    }
    if (!running) break;
    auto now = clock_type::now();
    if (now >= next_tick) {
      running = on_request(os_request::none);
      next_tick = clock_type::now() + tick;
      continue;
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_tick - now);
    HANDLE e = wake_event();
    ::MsgWaitForMultipleObjectsEx(e ? 1 : 0, e ? &e : nullptr, static_cast<DWORD>(wait.count()), QS_ALLINPUT,
                                  MWMO_INPUTAVAILABLE);
    pump_messages();
    running = !session_ended;
  }
  loop_handler = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  loop_window = nullptr;
}

void post_main_loop(os_request r) { push(r, true); }

}  // namespace drover::platform
