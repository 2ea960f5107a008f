// The tray as a StatusNotifierItem (libayatana-appindicator3): the panel
// draws our icon (by name, from a directory of ours) and renders our GtkMenu
// from its D-Bus mirror (com.canonical.dbusmenu). With no SNI host ayatana
// falls back to an XEmbed tray icon by itself. GTK is not thread-safe, so
// it lives on a thread of its own: gtk_init_check there, and every GTK call
// is marshalled onto it with g_idle_add.
//
// Tooltips: ayatana exports no ToolTip property. The tooltip text goes into
// Title and the icon's accessible description (IconAccessibleDesc), which is
// what hosts have to show: xfce4-panel 4.18 shows the Title on hover.
#include "platform/tray.hpp"

#include <gtk/gtk.h>
#include <libayatana-appindicator/app-indicator.h>
#include <libdbusmenu-glib/menuitem.h>
#include <libdbusmenu-glib/server.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "platform/linux/tray_icons.hpp"
#include "platform/linux/tray_menu.hpp"

namespace drover::platform {
namespace {

using tray_detail::icon_dir;
using tray_detail::tray_menu;

// Hosts ask for 16-24 px and scale down: one size that stays sharp on HiDPI.
constexpr int icon_size = 64;
// How long a menu counts as open on hosts that never say it closed: the
// status row refreshes every second while open, and a menu is rarely held
// open longer.
constexpr guint assumed_open_s = 60;
constexpr const char* session_needed = "drover tray needs a desktop session: ";

// GTK has one default main context per process: one tray at a time.
std::atomic<bool> tray_in_use{false};

bool has_env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0';
}

// Checked before gtk_init: GTK without a display aborts the process, and
// ayatana without a session bus has nobody to register with.
status check_session() {
  if (!has_env("DBUS_SESSION_BUS_ADDRESS")) {
    // GIO's own fallback when the variable is unset (systemd user sessions).
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    struct stat st {};
    bool bus = runtime != nullptr && runtime[0] == '/' && ::stat((std::string(runtime) + "/bus").c_str(), &st) == 0 &&
               S_ISSOCK(st.st_mode);
    if (!bus)
      return make_error("no_session", std::string(session_needed) +
                                          "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there "
                                          "is no $XDG_RUNTIME_DIR/bus); start it from your desktop's session");
  }
  if (!has_env("DISPLAY") && !has_env("WAYLAND_DISPLAY"))
    return make_error("no_session", std::string(session_needed) +
                                        "no display (neither DISPLAY nor WAYLAND_DISPLAY is set); start it from "
                                        "your desktop's session");
  return ok();
}

// Runs `fn` on the GTK thread. Always queued (g_idle_add), never run at
// once: g_main_context_invoke would run it on the calling thread whenever
// the loop is not running, e.g. before gtk_main has started.
void post(std::function<void()> fn) {
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer p) -> gboolean {
        (*static_cast<std::function<void()>*>(p))();
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(fn)), [](gpointer p) { delete static_cast<std::function<void()>*>(p); });
}

// One tray per desktop session: the well-known name on the session bus,
// released by the bus when its owner's connection goes (exit, crash).
constexpr const char* tray_bus_name = "org.drover.Tray";

status own_session_name(GDBusConnection* bus) {
  GError* err = nullptr;
  GVariant* reply = g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
      g_variant_new("(su)", tray_bus_name, 4u /* DBUS_NAME_FLAG_DO_NOT_QUEUE */), G_VARIANT_TYPE("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, &err);
  if (reply == nullptr) {
    std::string why = err != nullptr ? err->message : "no answer";
    g_clear_error(&err);
    return make_error("failed", "cannot take the name " + std::string(tray_bus_name) + " on the session bus: " + why);
  }
  guint32 answer = 0;
  g_variant_get(reply, "(u)", &answer);
  g_variant_unref(reply);
  // 1: ours now; 4: ours already. 3: another process has it.
  if (answer == 1 || answer == 4) return ok();
  return make_error("already_running", "drover tray is already running in this desktop session");
}

void on_notified(GObject* source, GAsyncResult* res, gpointer) {
  GError* err = nullptr;
  GVariant* reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &err);
  if (reply != nullptr) g_variant_unref(reply);
  if (err != nullptr) {
    spdlog::warn("tray: the desktop notification was not shown: {}", err->message);
    g_error_free(err);
  }
}

// Everything the GTK thread owns; created and destroyed there.
class gtk_side {
 public:
  gtk_side(tray_callbacks cb, const icon_dir& icons, GDBusConnection* bus)
      : cb_(std::move(cb)), icons_(icons), bus_(bus), menu_([this](tray::item_id id) {
          if (cb_.clicked) cb_.clicked(id);
        }) {
    auto grey = tray_detail::icon_name(tray::colour::grey);
    indicator_ = app_indicator_new_with_path("drover", grey.c_str(), APP_INDICATOR_CATEGORY_APPLICATION_STATUS,
                                             icons_.path().c_str());
    app_indicator_set_title(indicator_, "Drover");
    app_indicator_set_menu(indicator_, GTK_MENU(menu_.widget()));
    app_indicator_set_status(indicator_, APP_INDICATOR_STATUS_ACTIVE);
    watch_menu();
    watch_bus();
  }
  ~gtk_side() {
    cancel_close_timer();
    // No signal may reach us once we are gone (the menu's unmap while it
    // is destroyed, a late D-Bus event on the root).
    if (root_ != nullptr) {
      g_signal_handlers_disconnect_by_data(root_, this);
      g_object_unref(root_);
    }
    g_signal_handlers_disconnect_by_data(menu_.widget(), this);
    g_signal_handlers_disconnect_by_data(bus_, this);
    // The indicator first: it holds the menu and leaves the bus.
    g_object_unref(indicator_);
    g_object_unref(bus_);
  }
  gtk_side(const gtk_side&) = delete;
  gtk_side& operator=(const gtk_side&) = delete;

  void show(const tray::view& v) {
    if (!shown_ || shown_->icon != v.icon || shown_->tooltip != v.tooltip)
      app_indicator_set_icon_full(indicator_, tray_detail::icon_name(v.icon).c_str(), v.tooltip.c_str());
    if (!shown_ || shown_->tooltip != v.tooltip) app_indicator_set_title(indicator_, v.tooltip.c_str());
    menu_.update(v.menu);
    shown_ = v;
  }

  // org.freedesktop.Notifications directly (no libnotify): fire and forget.
  void notify(const std::string& title, const std::string& text) {
    GVariantBuilder actions, hints;
    g_variant_builder_init(&actions, G_VARIANT_TYPE("as"));
    g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
    std::string icon = icons_.file(shown_ ? shown_->icon : tray::colour::grey);
    g_dbus_connection_call(
        bus_, "org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
        "Notify",
        g_variant_new("(susssasa{sv}i)", "Drover", 0u, icon.c_str(), title.c_str(), text.c_str(), &actions, &hints, -1),
        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, on_notified, nullptr);
  }

  // Every opening is told (the caller may re-arm its refresh), a closing
  // only once.
  void menu_open(bool open) {
    if (!open && !menu_open_) return;
    menu_open_ = open;
    if (cb_.menu_open) cb_.menu_open(open);
  }

 private:
  // GLib's shared session connection (ayatana's too) raises SIGTERM when
  // the bus goes, by default. Our processes block SIGTERM on every thread
  // and wait for it on the main one, so that thread-directed signal would
  // stay pending and the tray would linger with nobody to show it: say so
  // instead, and let the owner end.
  void watch_bus() {
    g_dbus_connection_set_exit_on_close(bus_, FALSE);
    g_signal_connect(bus_, "closed", G_CALLBACK(on_bus_closed), this);
  }
  static void on_bus_closed(GDBusConnection*, gboolean, GError* err, gpointer self) {
    auto* me = static_cast<gtk_side*>(self);
    if (me->lost_) return;
    me->lost_ = true;
    std::string why =
        std::string("the D-Bus session bus closed") + (err != nullptr ? ": " + std::string(err->message) : "");
    spdlog::warn("tray: {}", why);
    if (me->cb_.lost) me->cb_.lost(why);
  }

  // Hosts say when the menu opens on the dbusmenu root: AboutToShow(0) or
  // the event "opened" (id 0); some say "closed" too. xfce4-panel 4.18 sends
  // only AboutToShowGroup([0]), never a closing: there the menu counts as
  // closed assumed_open_s after it opened. The XEmbed fallback pops up our
  // GtkMenu itself: its map/unmap say exactly.
  void watch_menu() {
    DbusmenuServer* server = nullptr;
    g_object_get(indicator_, "dbus-menu-server", &server, nullptr);
    DbusmenuMenuitem* root = nullptr;
    if (server != nullptr) g_object_get(server, DBUSMENU_SERVER_PROP_ROOT_NODE, &root, nullptr);
    if (root != nullptr) {
      g_signal_connect(root, DBUSMENU_MENUITEM_SIGNAL_ABOUT_TO_SHOW, G_CALLBACK(on_about_to_show), this);
      g_signal_connect(root, DBUSMENU_MENUITEM_SIGNAL_EVENT, G_CALLBACK(on_root_event), this);
      root_ = root;  // our reference: the handlers go before we do
    }
    if (server != nullptr) g_object_unref(server);
    g_signal_connect(menu_.widget(), "map", G_CALLBACK(on_map), this);
    g_signal_connect(menu_.widget(), "unmap", G_CALLBACK(on_unmap), this);
  }
  void host_opened() {
    menu_open(true);
    if (host_says_closed_) return;
    if (close_timer_ != 0) g_source_remove(close_timer_);
    close_timer_ = g_timeout_add_seconds(assumed_open_s, on_assumed_closed, this);
  }
  void host_closed() {
    host_says_closed_ = true;
    cancel_close_timer();
    menu_open(false);
  }
  void cancel_close_timer() {
    if (close_timer_ != 0) g_source_remove(close_timer_);
    close_timer_ = 0;
  }
  static gboolean on_assumed_closed(gpointer self) {
    auto* s = static_cast<gtk_side*>(self);
    s->close_timer_ = 0;
    s->menu_open(false);
    return G_SOURCE_REMOVE;
  }
  static gboolean on_about_to_show(DbusmenuMenuitem*, gpointer self) {
    static_cast<gtk_side*>(self)->host_opened();
    return FALSE;  // nothing to rebuild: the menu is always current
  }
  static gboolean on_root_event(DbusmenuMenuitem*, const gchar* name, GVariant*, guint, gpointer self) {
    std::string n = name != nullptr ? name : "";
    if (n == DBUSMENU_MENUITEM_EVENT_OPENED) static_cast<gtk_side*>(self)->host_opened();
    if (n == DBUSMENU_MENUITEM_EVENT_CLOSED) static_cast<gtk_side*>(self)->host_closed();
    return FALSE;  // the default handling goes on
  }
  static void on_map(GtkWidget*, gpointer self) { static_cast<gtk_side*>(self)->menu_open(true); }
  static void on_unmap(GtkWidget*, gpointer self) { static_cast<gtk_side*>(self)->menu_open(false); }

  tray_callbacks cb_;
  const icon_dir& icons_;
  GDBusConnection* bus_;
  tray_menu menu_;
  AppIndicator* indicator_ = nullptr;
  DbusmenuMenuitem* root_ = nullptr;  ///< the dbusmenu mirror's root, while we watch it
  std::optional<tray::view> shown_;
  bool menu_open_ = false;
  bool host_says_closed_ = false;  ///< this host reports closings: no guessing
  bool lost_ = false;              ///< the session bus closed
  guint close_timer_ = 0;
};

class linux_tray final : public tray_icon {
 public:
  explicit linux_tray(icon_dir icons) : icons_(std::move(icons)) {}
  ~linux_tray() override {
    if (thread_.joinable()) {
      post([this] {
        gtk_.reset();
        gtk_main_quit();
      });
      // Destroyed from a callback on the GTK thread (the contract says not
      // to): the thread cannot wait for itself.
      if (thread_.get_id() == std::this_thread::get_id())
        thread_.detach();
      else
        thread_.join();
    }
    tray_in_use = false;
  }
  linux_tray(const linux_tray&) = delete;
  linux_tray& operator=(const linux_tray&) = delete;

  status start(tray_callbacks cb) {
    std::promise<status> started;
    auto result = started.get_future();
    thread_ = std::thread([this, cb = std::move(cb), p = std::move(started)]() mutable { run(std::move(cb), p); });
    auto st = result.get();
    if (!st) thread_.join();
    return st;
  }

  void show(const tray::view& v) override {
    bool schedule = false;
    {
      std::lock_guard<std::mutex> lock(m_);
      pending_ = v;
      schedule = !scheduled_;
      scheduled_ = true;
    }
    // One queued update at a time: a burst of views costs one redraw, and
    // the newest wins.
    if (schedule) post([this] { apply_pending(); });
  }

  void notify(const std::string& title, const std::string& text) override {
    post([this, title, text] {
      if (gtk_) gtk_->notify(title, text);
    });
  }

 private:
  void run(tray_callbacks cb, std::promise<status>& started) {
    // GTK would otherwise setlocale(LC_ALL, "") for the whole process, and
    // the rest of Drover formats numbers and parses config in the C locale.
    gtk_disable_setlocale();
    if (!gtk_init_check(nullptr, nullptr)) {
      std::string display = has_env("DISPLAY") ? std::getenv("DISPLAY") : std::getenv("WAYLAND_DISPLAY");
      started.set_value(make_error("no_session", std::string(session_needed) + "cannot open the display " + display +
                                                     " (is it running, and may this user use it?)"));
      return;
    }
    GError* err = nullptr;
    GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &err);
    if (bus == nullptr) {
      std::string why = err != nullptr ? err->message : "unknown error";
      g_clear_error(&err);
      started.set_value(
          make_error("no_session", std::string(session_needed) + "cannot reach the D-Bus session bus: " + why));
      return;
    }
    if (auto st = own_session_name(bus); !st) {
      g_object_unref(bus);
      started.set_value(st);
      return;
    }
    gtk_ = std::make_unique<gtk_side>(std::move(cb), icons_, bus);
    started.set_value(ok());
    gtk_main();
    // Updates queued before the quit find gtk_ gone and do nothing; they
    // run now, while `this` still exists. Bounded: a source that keeps
    // re-arming itself must not keep us here.
    for (int i = 0; i < 1000 && g_main_context_pending(nullptr); ++i) g_main_context_iteration(nullptr, FALSE);
  }

  void apply_pending() {
    std::optional<tray::view> v;
    {
      std::lock_guard<std::mutex> lock(m_);
      v.swap(pending_);
      scheduled_ = false;
    }
    if (v && gtk_) gtk_->show(*v);
  }

  icon_dir icons_;
  std::unique_ptr<gtk_side> gtk_;  ///< GTK thread only
  std::mutex m_;
  std::optional<tray::view> pending_;
  bool scheduled_ = false;
  std::thread thread_;
};

}  // namespace

result<std::unique_ptr<tray_icon>> open_tray(tray_callbacks cb) {
  if (auto st = check_session(); !st) return st.err();
  if (tray_in_use.exchange(true)) return make_error("failed", "a tray is already open in this process");
  auto icons = icon_dir::create(icon_size);
  if (!icons) {
    tray_in_use = false;
    return icons.err();
  }
  // tray_in_use is released by the tray's destructor from here on.
  auto t = std::make_unique<linux_tray>(std::move(*icons));
  if (auto st = t->start(std::move(cb)); !st) return st.err();
  return std::unique_ptr<tray_icon>(std::move(t));
}

}  // namespace drover::platform
