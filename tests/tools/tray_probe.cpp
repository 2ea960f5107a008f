// The platform tray on its own, for tests: opens it, shows each view read
// from stdin (one JSON object a line), and reports what the user did on
// stdout, flushed at once:
//   in:  {"icon":"green","tooltip":"Drover: Active","menu":[{"id":2,"label":"Start"},
//         {"id":9,"label":"Start at login","checkable":true,"checked":true,"separator_before":true}]}
//        {"notify":{"title":"Drover","text":"lives here"}}
//   out: ready | clicked <id> | menu <0|1> | lost <why>
// End of input closes the tray (exit 0). An open error goes to stderr as
// "tray_probe: <code>: <message>" (exit 1); a bad line too, but the probe
// goes on.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

#include "platform/tray.hpp"

namespace {

using drover::tray::colour;

std::mutex out_mutex;

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

colour colour_of(const std::string& name) {
  for (auto c : {colour::grey, colour::green, colour::yellow, colour::red})
    if (name == drover::tray::colour_name(c)) return c;
  throw std::runtime_error("unknown icon colour '" + name + "'");
}

drover::tray::view view_of(const nlohmann::json& j) {
  drover::tray::view v;
  v.icon = colour_of(j.value("icon", "grey"));
  v.tooltip = j.value("tooltip", "");
  for (const auto& m : j.value("menu", nlohmann::json::array())) {
    drover::tray::item i;
    i.id = static_cast<drover::tray::item_id>(m.at("id").get<int>());
    i.label = m.value("label", "");
    i.enabled = m.value("enabled", true);
    i.checkable = m.value("checkable", false);
    i.checked = m.value("checked", false);
    i.separator_before = m.value("separator_before", false);
    v.menu.push_back(std::move(i));
  }
  return v;
}

}  // namespace

int main() {
  drover::platform::tray_callbacks cb;
  cb.clicked = [](drover::tray::item_id id) { say("clicked " + std::to_string(static_cast<int>(id))); };
  cb.menu_open = [](bool open) { say(open ? "menu 1" : "menu 0"); };
  cb.lost = [](const std::string& why) { say("lost " + why); };
  auto tray = drover::platform::open_tray(cb);
  if (!tray) {
    std::fprintf(stderr, "tray_probe: %s: %s\n", tray.err().code.c_str(), tray.err().message.c_str());
    return 1;
  }
  say("ready");
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (j.contains("notify"))
        (*tray)->notify(j["notify"].value("title", ""), j["notify"].value("text", ""));
      else
        (*tray)->show(view_of(j));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tray_probe: bad line (%s): %s\n", e.what(), line.c_str());
    }
  }
  return 0;
}
