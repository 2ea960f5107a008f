#include "app/tray_front.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <mutex>

#include "actors/tray.hpp"
#include "platform/autostart.hpp"
#include "platform/desktop.hpp"
#include "platform/main_loop.hpp"
#include "platform/safe_file.hpp"
#include "platform/tray.hpp"

namespace drover::app {

// The icon's callbacks exist before the actor does, and may fire from the
// icon's thread while it is being replaced: they reach it through here.
struct tray_front::slot {
  std::mutex mutex;
  tray_actor actor;
  template <class... Ts>
  void send(Ts&&... xs) {
    std::lock_guard<std::mutex> lock(mutex);
    if (actor) caf::anon_send(actor, std::forward<Ts>(xs)...);
  }
  void set(tray_actor a) {
    std::lock_guard<std::mutex> lock(mutex);
    actor = std::move(a);
  }
};

namespace {

constexpr const char* toast_marker = "tray-notice-shown";

result<bool> autostart_on() {
  auto s = platform::autostart_status();
  if (!s) return s.err();
  return s->enabled && !s->disabled_by_user;
}

status set_autostart(bool on) {
  auto st = on ? platform::autostart_enable() : platform::autostart_disable();
  if (!st) return st;
  if (auto s = platform::autostart_status(); on && s && s->disabled_by_user)
    return make_error("disabled_by_user", s->disabled_where + "; turn it on there");
  return ok();
}

bool toast_shown_before() {
  auto dir = platform::user_state_dir();
  std::error_code ec;
  return dir && std::filesystem::exists(*dir + "/" + toast_marker, ec);
}

void remember_toast() {
  auto dir = platform::user_state_dir();
  if (!dir) return spdlog::warn("tray: cannot remember the first-start notice: {}", dir.err().message);
  if (auto st = platform::write_file(*dir + "/" + toast_marker, "1\n", platform::file_mode::owner_only); !st)
    spdlog::warn("tray: cannot remember the first-start notice: {}", st.err().message);
}

}  // namespace

result<std::unique_ptr<tray_front>> tray_front::open(caf::actor_system& sys, std::unique_ptr<engine_client> client,
                                                     const tray_front_options& o) {
  std::unique_ptr<tray_front> f(new tray_front());
  f->sys_ = &sys;
  f->slot_ = std::make_shared<slot>();
  platform::tray_callbacks cb;
  cb.clicked = [s = f->slot_](tray::item_id id) { s->send(click_atom_v, static_cast<int32_t>(id)); };
  cb.menu_open = [s = f->slot_](bool open) { s->send(menu_atom_v, open); };
  // Only a tray of its own process loses its session (Linux `drover tray`;
  // the next login starts it again): it ends, the engine does not care.
  cb.lost = [](const std::string& why) {
    spdlog::warn("tray: quitting, the desktop session is gone ({})", why);
    platform::post_main_loop(platform::os_request::stop);
  };
  auto icon = platform::open_tray(std::move(cb));
  if (!icon) return icon.err();
  f->icon_ = std::shared_ptr<platform::tray_icon>(std::move(*icon));
  f->client_ = std::move(client);
  tray_env env;
  env.icon = f->icon_;
  env.request = [c = f->client_.get()](const std::string& r, engine_client::sink done) {
    c->request(r, std::move(done));
  };
  env.autostart_on = autostart_on;
  env.set_autostart = set_autostart;
  env.open = platform::open_with_desktop;
  env.quit = [] { platform::post_main_loop(platform::os_request::stop); };
  env.toast_shown = remember_toast;
  env.os = o.os;
  env.version = DROVER_VERSION;
  env.show_first_toast = !o.toast_already_shown && !toast_shown_before();
  f->actor_ = spawn_tray(sys, std::move(env));
  f->slot_->set(f->actor_);
  f->client_->watch([s = f->slot_](std::string line) { s->send(status_atom_v, std::move(line)); });
  return f;
}

// The actor's state holds the icon and the client's requests hold the
// actor: the actor goes first, then the client (dropping answers still on
// their way), and the icon last, here, on the thread that opened it.
tray_front::~tray_front() {
  slot_->set(tray_actor{});
  if (actor_) {
    caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
    caf::scoped_actor self{*sys_};
    self->wait_for(actor_);
    actor_ = tray_actor{};
  }
  client_.reset();
  icon_.reset();
}

void tray_front::show_yourself() {
  if (icon_) icon_->notify("Drover is running", "its icon is here in the tray; right-click it for the menu");
}

}  // namespace drover::app
