#include "actors/tray.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "actors/exceptions.hpp"
#include "platform/tray.hpp"

namespace drover {
namespace {

using clock_type = caf::actor_clock;

struct tray_state {
  tray_env env;
  tray::engine_view engine;   // what the engine said last
  tray::engine_view sampled;  // the sample the rates are measured from
  clock_type::time_point sampled_at{};
  bool have_sample = false;
  tray::rates rates;
  tray::view shown;
  bool shown_once = false;
  bool menu_open = false;
  bool polling = false;  // a status request is out: never more than one
  std::string config_path, log_path;
  nlohmann::json lifetime;
  static inline const char* name = "tray";
};
using tray_pointer = tray_actor::stateful_pointer<tray_state>;

std::string error_of(const nlohmann::json& j) {
  return j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "";
}

nlohmann::json parse(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  return j.is_discarded() ? nlohmann::json{{"error", "the engine's answer is not JSON"}} : j;
}

tray::options options_of(tray_state& st) {
  tray::options o;
  o.os = st.env.os;
  auto on = st.env.autostart_on ? st.env.autostart_on() : result<bool>(make_error("unsupported", ""));
  o.autostart_supported = on.ok();
  o.autostart_on = on.ok() && *on;
  return o;
}

void render(tray_pointer self) {
  auto& st = self->state;
  auto v = tray::make_view(st.engine, st.rates, options_of(st));
  if (st.shown_once && v == st.shown) return;
  if (!st.shown_once || v.icon != st.shown.icon)
    spdlog::info("tray: {} ({})", tray::colour_name(v.icon), st.engine.reachable ? st.engine.state : "no engine");
  st.shown = v;
  st.shown_once = true;
  st.env.icon->show(v);
}

// A new status line: the model's input, and every second a rate sample.
void on_status(tray_pointer self, const std::string& line) {
  auto& st = self->state;
  st.engine = parse_engine_view(line);
  auto j = parse(line);
  if (st.engine.reachable) {
    st.config_path = j.value("config_path", st.config_path);
    st.log_path = j.value("log_path", st.log_path);
    if (j.contains("lifetime")) st.lifetime = j["lifetime"];
  }
  auto now = self->clock().now();  // virtual time in tests
  double secs = std::chrono::duration<double>(now - st.sampled_at).count();
  if (!st.engine.reachable || st.engine.state != "Active") {
    st.rates = {};
    st.have_sample = false;
  } else if (!st.have_sample) {
    st.sampled = st.engine, st.sampled_at = now, st.have_sample = true;
  } else if (secs >= 0.9) {
    st.rates = tray::rate_between(st.sampled, st.engine, secs);
    st.sampled = st.engine, st.sampled_at = now;
  }
  render(self);
}

void ask(tray_pointer self, const std::string& request) {
  tray_actor me = self;
  self->state.env.request(
      request, [me, request](std::string answer) { caf::anon_send(me, answer_atom_v, request, std::move(answer)); });
}

void notify(tray_pointer self, const std::string& title, const std::string& text) {
  spdlog::info("tray notification: {}: {}", title, text);
  self->state.env.icon->notify(title, text);
}

void open_file(tray_pointer self, const std::string& what, const std::string& path) {
  if (path.empty()) return notify(self, "Drover", "no " + what + " to open: the engine did not say where it is");
  if (auto st = self->state.env.open(path); !st)
    notify(self, "Drover", "cannot open " + path + ": " + st.err().message);
}

std::string about_text(const tray_state& st) {
  std::string t = "Drover " + st.env.version;
  if (st.lifetime.is_object()) {
    auto mb = [](uint64_t b) { return std::to_string(b / (1024 * 1024)) + " MB"; };
    t += "\nLifetime: " + mb(st.lifetime.value("bytes_out", uint64_t{0})) + " up, " +
         mb(st.lifetime.value("bytes_in", uint64_t{0})) + " down, " +
         std::to_string(st.lifetime.value("flows", uint64_t{0})) + " flows, " +
         tray::format_duration(st.lifetime.value("uptime_s", uint64_t{0})) + " running";
  }
  return t;
}

void on_click(tray_pointer self, tray::item_id id) {
  auto& st = self->state;
  switch (id) {
    case tray::item_id::start:
      return ask(self, "start");
    case tray::item_id::stop:
      return ask(self, "stop");
    case tray::item_id::retry:
      return ask(self, "retry");
    case tray::item_id::run_check:
      notify(self, "Drover", "checking the proxy…");
      return ask(self, "check");
    case tray::item_id::save_dump:
      return ask(self, "save-dump");
    case tray::item_id::open_config:
      return open_file(self, "config file", st.config_path);
    case tray::item_id::open_log:
      return open_file(self, "log file", st.log_path);
    case tray::item_id::autostart: {
      auto on = st.env.autostart_on();
      if (!on) return notify(self, "Drover", "start at login is not available: " + on.err().message);
      if (auto r = st.env.set_autostart(!*on); !r)
        notify(self, "Drover", "cannot change start at login: " + r.err().message);
      return render(self);
    }
    case tray::item_id::about:
      return notify(self, "About Drover", about_text(st));
    case tray::item_id::quit:
      return st.env.quit();
    case tray::item_id::status_row:
      return;
  }
  spdlog::warn("tray: unknown menu item {}", static_cast<int>(id));
}

// What each request's answer means to the user; status answers are views.
void on_answer(tray_pointer self, const std::string& request, const std::string& line) {
  if (request == "status") {
    self->state.polling = false;
    return on_status(self, line);
  }
  auto j = parse(line);
  auto error = error_of(j);
  if (request == "check") {
    if (!error.empty()) return notify(self, "Proxy check failed", error);
    if (j.value("ok", false)) return notify(self, "Proxy check passed", "chat and voice will work");
    std::string why = j.value("failure", j.value("udp_failure", std::string("see drover check")));
    if (j.value("tcp_ok", false)) return notify(self, "Proxy check: no UDP", "chat will work, voice will not: " + why);
    return notify(self, "Proxy check failed", why);
  }
  if (request == "save-dump") {
    if (!error.empty()) return notify(self, "Diagnostics not saved", error);
    return notify(self, "Diagnostics saved", j.value("path", std::string("(no path given)")));
  }
  if (!error.empty()) notify(self, "Drover: " + request + " failed", error);
  ask(self, "status");  // show the new state without waiting for the next poll
}

}  // namespace

tray::engine_view parse_engine_view(const std::string& line) {
  tray::engine_view e;
  auto j = parse(line);
  auto error = error_of(j);
  if (!error.empty() || !j.is_object() || !j.contains("state") || !j["state"].is_string()) {
    e.unreachable_reason = error.empty() ? "the engine's answer has no state" : error;
    return e;
  }
  e.reachable = true;
  e.state = j["state"].get<std::string>();
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  auto num = [&](const char* k) { return j.contains(k) && j[k].is_number_unsigned() ? j[k].get<uint64_t>() : 0; };
  e.detail = str("detail");
  e.last_error = str("last_error");
  e.uptime_s = num("uptime_s");
  e.bytes_in = num("bytes_in");
  e.bytes_out = num("bytes_out");
  e.reconnect_attempt = static_cast<uint32_t>(num("reconnect_attempt"));
  e.udp_available = !(j.contains("udp_available") && j["udp_available"].is_boolean()) || j["udp_available"].get<bool>();
  return e;
}

tray_actor spawn_tray(caf::actor_system& sys, tray_env env) {
  return sys.spawn([env = std::move(env)](tray_pointer self) -> tray_actor::behavior_type {
    report_exceptions(self);
    auto& st = self->state;
    st.env = env;
    st.engine.unreachable_reason = "connecting to the engine…";
    render(self);
    if (st.env.show_first_toast) {
      notify(self, "Drover runs in the tray", "its icon shows the state; right-click it for the menu");
      if (st.env.toast_shown) st.env.toast_shown();
    }
    self->send(self, tick_atom_v);
    return {
        [self](status_atom, const std::string& line) { on_status(self, line); },
        [self](click_atom, int32_t id) { on_click(self, static_cast<tray::item_id>(id)); },
        [self](answer_atom, const std::string& request, const std::string& line) { on_answer(self, request, line); },
        [self](menu_atom, bool open) { self->state.menu_open = open; },
        [self](tick_atom) {
          if (!std::exchange(self->state.polling, true)) ask(self, "status");
          self->delayed_send(self, self->state.env.poll, tick_atom_v);
        },
    };
  });
}

}  // namespace drover
