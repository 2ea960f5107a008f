// The notification-area icon: Shell_NotifyIconW on a hidden window of the
// calling thread, which is the main loop's (its PeekMessageW(nullptr, ...)
// pumps every window of that thread, and TrackPopupMenu's modal loop does
// too while the menu is open). show() and notify() come from other threads:
// they leave their data under the mutex and post a message; the window
// applies it, so every Shell_NotifyIconW and menu call runs on one thread.
#include "platform/tray.hpp"

#include <windows.h>
// (after windows.h, which WIN32_LEAN_AND_MEAN keeps from including it)
#include <shellapi.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "platform/windows/tray_gdi.hpp"
#include "platform/windows/tray_pixels.hpp"
#include "platform/windows/win_handle.hpp"
#include "platform/windows/window_class.hpp"

namespace drover::platform {
namespace {

constexpr UINT callback_message = WM_APP + 20;  // the shell, about our icon
constexpr UINT wake_message = WM_APP + 21;      // show() or notify() left something
constexpr size_t tip_units = 127;               // szTip[128]
constexpr size_t info_title_units = 63;         // szInfoTitle[64]
constexpr size_t info_units = 255;              // szInfo[256]

template <size_t N>
void copy_text(wchar_t (&to)[N], const std::string& utf8) {
  std::wstring w = win::fit_units(win::to_wide(utf8), N - 1);
  w.copy(to, w.size());
  to[w.size()] = L'\0';
}

class win_tray final : public tray_icon {
 public:
  explicit win_tray(tray_callbacks cb) : cb_(std::move(cb)) {}
  // On the window's thread, after the callers of show() have stopped.
  ~win_tray() override {
    // The session's end can stop Drover from inside the menu's modal loop
    // (WM_ENDSESSION is sent to it): the loop is ended, and open_menu()
    // touches nothing of this object once it returns.
    *alive_ = false;
    if (open_menu_) ::EndMenu();
    if (!hwnd_) return;
    ::SetWindowLongPtrW(hwnd_, GWLP_USERDATA, 0);  // no message reaches a dying object
    NOTIFYICONDATAW d = base_data();
    ::Shell_NotifyIconW(NIM_DELETE, &d);
  }

  status open();
  void show(const tray::view& v) override {
    std::lock_guard<std::mutex> lock(mutex_);
    next_view_ = v;
    wake();
  }
  void notify(const std::string& title, const std::string& text) override {
    std::lock_guard<std::mutex> lock(mutex_);
    notes_.emplace_back(title, text);
    wake();
  }

  static LRESULT CALLBACK proc(HWND window, UINT msg, WPARAM wparam, LPARAM lparam);

 private:
  LRESULT on_message(UINT msg, WPARAM wparam, LPARAM lparam);
  NOTIFYICONDATAW base_data() const {
    NOTIFYICONDATAW d{};
    d.cbSize = sizeof d;
    d.hWnd = hwnd_;
    d.uID = win::tray_icon_uid;
    return d;
  }
  // NIF_SHOWTIP: with NOTIFYICON_VERSION_4 the shell shows the plain
  // tooltip only when asked to.
  NOTIFYICONDATAW icon_data() const {
    NOTIFYICONDATAW d = base_data();
    d.uFlags = NIF_MESSAGE | NIF_ICON | NIF_TIP | NIF_SHOWTIP;
    d.uCallbackMessage = callback_message;
    d.hIcon = static_cast<HICON>(icon_.get());
    copy_text(d.szTip, view_.tooltip.empty() ? std::string("Drover") : view_.tooltip);
    return d;
  }
  bool add_icon();
  void wake();  // mutex_ held
  void apply_pending();
  void open_menu(int x, int y);
  void report_menu(bool open);

  tray_callbacks cb_;
  UINT taskbar_created_ = 0;
  win::unique_window window_;
  HWND hwnd_ = nullptr;  // window_'s; set before any other thread sees this object

  std::mutex mutex_;
  std::optional<tray::view> next_view_;                    // guarded by mutex_
  std::deque<std::pair<std::string, std::string>> notes_;  // guarded by mutex_
  bool woken_ = false;                                     // guarded by mutex_

  // The window's thread only.
  tray::view view_;
  win::unique_icon icon_;
  tray::colour icon_colour_ = tray::colour::grey;
  void* open_menu_ = nullptr;  // the popup while TrackPopupMenuEx runs
  bool menu_reported_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

void win_tray::wake() {
  if (woken_) return;  // one message carries every change made until it is handled
  woken_ = ::PostMessageW(hwnd_, wake_message, 0, 0) != FALSE;
}

status win_tray::open() {
  win::register_window_class(win::tray_window_class, proc);
  taskbar_created_ = ::RegisterWindowMessageW(L"TaskbarCreated");
  auto icon = win::make_disc_icon(tray::colour_rgb(icon_colour_));
  if (!icon) return icon.err();
  icon_ = std::move(icon.value());
  // Top-level (hidden), not message-only: only top-level windows get the
  // TaskbarCreated broadcast.
  window_.reset(::CreateWindowExW(WS_EX_TOOLWINDOW, win::tray_window_class, L"Drover", WS_OVERLAPPED, 0, 0, 0, 0,
                                  nullptr, nullptr, ::GetModuleHandleW(nullptr), this));
  if (!window_) {
    hwnd_ = nullptr;
    return make_error("no_tray", "cannot create the tray's window: " + win::last_error_text());
  }
  // The engine runs elevated and explorer does not: without this, UIPI drops
  // explorer's TaskbarCreated and its notifications about our icon.
  ::ChangeWindowMessageFilterEx(hwnd_, taskbar_created_, MSGFLT_ALLOW, nullptr);
  ::ChangeWindowMessageFilterEx(hwnd_, callback_message, MSGFLT_ALLOW, nullptr);
  if (!add_icon())
    return make_error("no_tray",
                      "the notification area did not take Drover's icon (no taskbar: is explorer running?); "
                      "run with --no-tray to do without it");
  return ok();
}

bool win_tray::add_icon() {
  NOTIFYICONDATAW d = icon_data();
  // A TaskbarCreated that no restart of explorer caused (another program
  // broadcast it) finds our icon still there: then NIM_ADD fails.
  if (!::Shell_NotifyIconW(NIM_ADD, &d) && !::Shell_NotifyIconW(NIM_MODIFY, &d)) return false;
  d.uVersion = NOTIFYICON_VERSION_4;  // WM_CONTEXTMENU / NIN_SELECT with the anchor point
  ::Shell_NotifyIconW(NIM_SETVERSION, &d);
  return true;
}

void win_tray::apply_pending() {
  std::optional<tray::view> v;
  std::deque<std::pair<std::string, std::string>> notes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    v.swap(next_view_);
    notes.swap(notes_);
    woken_ = false;
  }
  if (v) {
    bool recolour = v->icon != icon_colour_;
    view_ = std::move(*v);
    win::unique_icon old;
    if (recolour) {
      // Kept until the shell has its copy of the new one.
      if (auto icon = win::make_disc_icon(tray::colour_rgb(view_.icon))) {
        old = std::move(icon_);
        icon_ = std::move(icon.value());
        icon_colour_ = view_.icon;
      }
    }
    NOTIFYICONDATAW d = icon_data();
    if (!::Shell_NotifyIconW(NIM_MODIFY, &d)) add_icon();  // explorer lost it and has not said so yet
    // An open menu cannot take other rows in place (Stop became Start,
    // Retry came): it is ended, and the next click opens the right one.
    if (open_menu_ && win::update_menu(open_menu_, view_.menu))
      win::redraw_open_menus();
    else if (open_menu_)
      ::EndMenu();
  }
  for (const auto& [title, text] : notes) {
    NOTIFYICONDATAW d = base_data();
    d.uFlags = NIF_INFO;
    d.dwInfoFlags = NIIF_INFO;
    copy_text(d.szInfoTitle, title);
    copy_text(d.szInfo, text);
    ::Shell_NotifyIconW(NIM_MODIFY, &d);
  }
}

void win_tray::open_menu(int x, int y) {
  if (open_menu_) return;  // a click on the icon while its menu is open
  auto menu = win::make_menu(view_.menu);
  if (!menu) return;
  // The documented rule for notification-area menus: foreground first, or
  // the menu does not close when the user clicks elsewhere; WM_NULL after,
  // or the next menu may close at once.
  ::SetForegroundWindow(hwnd_);
  open_menu_ = menu->get();
  auto alive = alive_;
  UINT align = ::GetSystemMetrics(SM_MENUDROPALIGNMENT) ? TPM_RIGHTALIGN : TPM_LEFTALIGN;
  ::TrackPopupMenuEx(static_cast<HMENU>(open_menu_), align | TPM_BOTTOMALIGN | TPM_RIGHTBUTTON, x, y, hwnd_, nullptr);
  if (!*alive) return;  // destroyed while the menu was open
  open_menu_ = nullptr;
  report_menu(false);
  ::PostMessageW(hwnd_, WM_NULL, 0, 0);
}

void win_tray::report_menu(bool open) {
  if (menu_reported_ == open) return;
  menu_reported_ = open;
  if (cb_.menu_open) cb_.menu_open(open);
}

LRESULT win_tray::on_message(UINT msg, WPARAM wparam, LPARAM lparam) {
  if (taskbar_created_ != 0 && msg == taskbar_created_) {  // explorer (re)started: our icon is gone
    add_icon();
    return 0;
  }
  switch (msg) {
    case callback_message:
      // NOTIFYICON_VERSION_4: the event in LOWORD(lparam), the anchor point
      // (screen coordinates) in wparam.
      switch (LOWORD(lparam)) {
        case WM_CONTEXTMENU:  // right click, or Shift+F10 / the menu key
        case NIN_SELECT:      // left click
        case NIN_KEYSELECT:   // Enter or Space on the focused icon
          open_menu(static_cast<short>(LOWORD(wparam)), static_cast<short>(HIWORD(wparam)));
          break;
        default:
          break;
      }
      return 0;
    case wake_message:
      apply_pending();
      return 0;
    case WM_ENTERMENULOOP:
      if (open_menu_) report_menu(true);
      return 0;
    case WM_EXITMENULOOP:
      report_menu(false);
      return 0;
    case WM_COMMAND:
      // A picked item (posted once the menu has closed); lparam 0: a menu.
      if (HIWORD(wparam) == 0 && lparam == 0 && cb_.clicked) cb_.clicked(static_cast<tray::item_id>(LOWORD(wparam)));
      return 0;
    case WM_CLOSE:
      // taskkill posts it to every top-level window: the main loop's window
      // turns it into a stop; DefWindowProc would destroy ours under us.
      return 0;
    default:
      return ::DefWindowProcW(hwnd_, msg, wparam, lparam);
  }
}

LRESULT CALLBACK win_tray::proc(HWND window, UINT msg, WPARAM wparam, LPARAM lparam) {
  if (msg == WM_NCCREATE) {
    auto* self = static_cast<win_tray*>(reinterpret_cast<CREATESTRUCTW*>(lparam)->lpCreateParams);
    self->hwnd_ = window;
    ::SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(self));
  }
  auto* self = reinterpret_cast<win_tray*>(::GetWindowLongPtrW(window, GWLP_USERDATA));
  if (!self) return ::DefWindowProcW(window, msg, wparam, lparam);
  return self->on_message(msg, wparam, lparam);
}

}  // namespace

result<std::unique_ptr<tray_icon>> open_tray(tray_callbacks cb) {
  auto tray = std::make_unique<win_tray>(std::move(cb));
  if (auto s = tray->open(); !s) return s.err();
  return std::unique_ptr<tray_icon>(std::move(tray));
}

}  // namespace drover::platform
