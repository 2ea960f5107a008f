// WM_POWERBROADCAST on a hidden top-level window of our own thread: message-
// only windows get no broadcasts, and the main thread's window belongs to
// a loop that may be busy. Where no top-level window can exist (no desktop:
// Wine without a display), a message-only window registered with
// RegisterSuspendResumeNotification gets the same messages, sent to it alone.
#include "platform/power.hpp"

#include <windows.h>

#include <future>
#include <thread>

#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

constexpr const wchar_t* window_class = L"DroverPowerWatch";

constexpr UINT quit_message = WM_APP + 1;

// The message-only fallback's registration, undone on destruction.
void unregister_power(void* h) noexcept { ::UnregisterSuspendResumeNotification(h); }
using unique_power_registration = win::unique_handle_of<unregister_power>;

class broadcast_watch final : public power_watch {
 public:
  explicit broadcast_watch(std::function<void(bool)> cb) : cb_(std::move(cb)) {}
  ~broadcast_watch() override {
    if (window_) ::PostMessageW(window_, quit_message, 0, 0);
    if (thread_.joinable()) thread_.join();
  }
  broadcast_watch(const broadcast_watch&) = delete;
  broadcast_watch& operator=(const broadcast_watch&) = delete;

  status start() {
    std::promise<status> started;
    auto result = started.get_future();
    thread_ = std::thread([this, &started] { run(started); });
    return result.get();
  }

 private:
  void run(std::promise<status>& started) {
    register_class();
    HINSTANCE instance = ::GetModuleHandleW(nullptr);
    win::unique_window window(::CreateWindowExW(0, window_class, L"Drover power", WS_OVERLAPPED, 0, 0, 0, 0, nullptr,
                                                nullptr, instance, this));
    unique_power_registration registration;
    if (!window) {
      window.reset(
          ::CreateWindowExW(0, window_class, L"Drover power", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr, instance, this));
      if (!window)
        return started.set_value(
            make_error("power", "cannot create the power notification window: " + win::last_error_text()));
      registration.reset(
          ::RegisterSuspendResumeNotification(static_cast<HWND>(window.get()), DEVICE_NOTIFY_WINDOW_HANDLE));
      if (!registration)
        return started.set_value(
            make_error("power", "cannot register for sleep/resume notifications: " + win::last_error_text()));
    }
    window_ = static_cast<HWND>(window.get());
    started.set_value(ok());
    MSG m;
    while (::GetMessageW(&m, nullptr, 0, 0) > 0) ::DispatchMessageW(&m);
  }

  static void register_class() {
    static std::once_flag once;
    std::call_once(once, [] {
      WNDCLASSEXW wc{};
      wc.cbSize = sizeof wc;
      wc.lpfnWndProc = window_proc;
      wc.hInstance = ::GetModuleHandleW(nullptr);
      wc.lpszClassName = window_class;
      ::RegisterClassExW(&wc);
    });
  }

  static LRESULT CALLBACK window_proc(HWND window, UINT msg, WPARAM wparam, LPARAM lparam) {
    if (msg == WM_NCCREATE) {
      auto* cs = reinterpret_cast<CREATESTRUCTW*>(lparam);
      ::SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(cs->lpCreateParams));
    }
    auto* self = reinterpret_cast<broadcast_watch*>(::GetWindowLongPtrW(window, GWLP_USERDATA));
    if (msg == WM_POWERBROADCAST && self) {
      self->on_broadcast(wparam);
      return TRUE;
    }
    if (msg == quit_message) ::PostQuitMessage(0);
    // taskkill asks every top-level window of ours to close: the main
    // window turns that into a stop; this one must not go away by itself.
    if (msg == WM_CLOSE) return 0;
    return ::DefWindowProcW(window, msg, wparam, lparam);
  }

  // Every wake-up brings RESUMEAUTOMATIC, one the user causes RESUMESUSPEND
  // as well: one report for both (and for any message that came twice).
  void on_broadcast(WPARAM event) {
    if (event == PBT_APMSUSPEND && state_ != phase::asleep) {
      state_ = phase::asleep;
      cb_(true);
    } else if ((event == PBT_APMRESUMEAUTOMATIC || event == PBT_APMRESUMESUSPEND) && state_ != phase::resumed) {
      state_ = phase::resumed;
      cb_(false);
    }
  }

  enum class phase { awake, asleep, resumed };
  std::function<void(bool)> cb_;
  phase state_ = phase::awake;  // only touched on the watch thread
  HWND window_ = nullptr;       // set before start() returns; read by the destructor
  std::thread thread_;
};

}  // namespace

result<std::unique_ptr<power_watch>> watch_power(std::function<void(bool)> on_event) {
  auto w = std::make_unique<broadcast_watch>(std::move(on_event));
  if (auto st = w->start(); !st) return st.err();
  return std::unique_ptr<power_watch>(std::move(w));
}

}  // namespace drover::platform
