#include "core/tray_model.hpp"

#include <cstdio>

namespace drover::tray {
namespace {

// The status row's minimum length in code points: "Reconnecting · 23h 59m ·
// ↑ 999.9 KB/s ↓ 999.9 KB/s" and a little more. Hosts fix the menu's width
// from the first label, so a short first label ("Idle") would cut later ones.
constexpr std::size_t status_row_width = 56;

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool is(const engine_view& e, const char* state) { return e.reachable && e.state == state; }

item make_item(item_id id, std::string label, bool enabled = true) {
  item i;
  i.id = id;
  i.label = std::move(label);
  i.enabled = enabled;
  return i;
}

}  // namespace

const char* colour_name(colour c) {
  switch (c) {
    case colour::green:
      return "green";
    case colour::yellow:
      return "yellow";
    case colour::red:
      return "red";
    case colour::grey:
      break;
  }
  return "grey";
}

uint32_t colour_rgb(colour c) {
  switch (c) {
    case colour::green:
      return 0x2EB84Bu;
    case colour::yellow:
      return 0xF2B90Cu;
    case colour::red:
      return 0xD93025u;
    case colour::grey:
      break;
  }
  return 0x8A8A8Au;
}

bool view::operator==(const view& o) const {
  if (icon != o.icon || tooltip != o.tooltip || menu.size() != o.menu.size()) return false;
  for (std::size_t k = 0; k < menu.size(); ++k) {
    const auto &a = menu[k], &b = o.menu[k];
    if (a.id != b.id || a.label != b.label || a.enabled != b.enabled || a.checkable != b.checkable ||
        a.checked != b.checked || a.separator_before != b.separator_before)
      return false;
  }
  return true;
}

rates rate_between(const engine_view& before, const engine_view& after, double seconds) {
  rates r;
  if (seconds <= 0) return r;
  if (after.bytes_out >= before.bytes_out) r.up = static_cast<double>(after.bytes_out - before.bytes_out) / seconds;
  if (after.bytes_in >= before.bytes_in) r.down = static_cast<double>(after.bytes_in - before.bytes_in) / seconds;
  return r;
}

colour colour_of(const engine_view& e) {
  if (!e.reachable || e.state == "Idle") return colour::grey;
  if (e.state == "Failed") return colour::red;
  if (e.state == "Active") return e.detail == "no traffic" || !e.udp_available ? colour::yellow : colour::green;
  return colour::yellow;  // Starting, Reconnecting
}

std::string format_duration(uint64_t s) {
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lluh %02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%llum %02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  return buf;
}

std::string format_rate(double bps) {
  if (!(bps > 0)) return "0 B/s";
  char buf[32];
  if (bps < 1024)
    std::snprintf(buf, sizeof buf, "%.0f B/s", bps);
  else if (bps < 1024.0 * 1024)
    std::snprintf(buf, sizeof buf, "%.0f KB/s", bps / 1024);
  else if (bps < 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f MB/s", bps / (1024.0 * 1024));
  else
    std::snprintf(buf, sizeof buf, "%.1f GB/s", bps / (1024.0 * 1024 * 1024));
  return buf;
}

std::string status_row(const engine_view& e, const rates& r) {
  std::string row;
  if (!e.reachable) {
    row = "Not running";
  } else {
    row = e.state;
    if (e.state == "Active" || e.state == "Reconnecting") row += " · " + format_duration(e.uptime_s);
    if (e.state == "Active") row += " · ↑ " + format_rate(r.up) + " ↓ " + format_rate(r.down);
  }
  // U+2007 FIGURE SPACE: hosts may trim trailing ASCII spaces.
  while (code_points(row) < status_row_width) row += "\u2007";
  return row;
}

std::string tooltip(const engine_view& e) {
  if (!e.reachable) return "Drover: not running" + (e.unreachable_reason.empty() ? "" : "\n" + e.unreachable_reason);
  std::string t = "Drover: " + e.state;
  if (!e.detail.empty())
    t += "\n" + e.detail;
  else if (e.state == "Active" && !e.udp_available)
    t += "\nthe proxy has no UDP: voice will not work";
  if (!e.last_error.empty() && (e.state == "Failed" || e.state == "Reconnecting")) t += "\n" + e.last_error;
  return t;
}

view make_view(const engine_view& e, const rates& r, const options& o) {
  view v;
  v.icon = colour_of(e);
  v.tooltip = tooltip(e);
  v.menu.push_back(make_item(item_id::status_row, status_row(e, r), false));
  // Start/Stop follow the state; Failed offers Retry (and Stop, to Idle).
  if (e.reachable && e.state == "Idle") v.menu.push_back(make_item(item_id::start, "Start"));
  if (is(e, "Failed")) v.menu.push_back(make_item(item_id::retry, "Retry"));
  if (e.reachable && e.state != "Idle") v.menu.push_back(make_item(item_id::stop, "Stop"));
  v.menu.push_back(make_item(item_id::run_check, "Run check", e.reachable));
  v.menu.push_back(make_item(item_id::open_config, "Open config"));
  v.menu.push_back(make_item(item_id::open_log, "Open log"));
  v.menu.push_back(make_item(item_id::save_dump, "Save diagnostics…", e.reachable));
  auto start_at_login = make_item(
      item_id::autostart, o.os == flavour::windows ? "Start with Windows" : "Start at login", o.autostart_supported);
  start_at_login.checkable = true;
  start_at_login.checked = o.autostart_on;
  start_at_login.separator_before = true;
  v.menu.push_back(start_at_login);
  v.menu.push_back(make_item(item_id::about, "About Drover"));
  auto quit = make_item(item_id::quit,
                        o.os == flavour::windows ? "Quit (stops Drover)" : "Quit tray (the service keeps running)");
  quit.separator_before = true;
  v.menu.push_back(quit);
  v.menu[1].separator_before = true;  // below the status row, whatever comes first
  return v;
}

}  // namespace drover::tray
