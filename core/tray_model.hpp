#pragma once
/// What the tray shows, as a pure function of what the engine last said:
/// the icon's colour, the tooltip and the menu (seed: tray, P2.4). Both
/// platform trays (Windows Shell_NotifyIconW, Linux StatusNotifierItem) and
/// the headless one render exactly this; nothing here knows an OS.
#include <cstdint>
#include <string>
#include <vector>

namespace drover::tray {

enum class colour { grey, green, yellow, red };
/// The colour's name as tests and logs use it: "grey", "green", "yellow", "red".
const char* colour_name(colour c);
/// 0xRRGGBB of the icon's disc (the colour a screenshot test looks for).
uint32_t colour_rgb(colour c);

/// Menu item ids: stable numbers (the Linux D-Bus menu and Windows WM_COMMAND
/// carry them; tests click by these ids' labels).
enum class item_id : int {
  status_row = 1,
  start = 2,
  stop = 3,
  retry = 4,
  run_check = 5,
  open_config = 6,
  open_log = 7,
  save_dump = 8,
  autostart = 9,
  about = 10,
  quit = 11,
};

struct item {
  item_id id = item_id::status_row;
  std::string label;
  bool enabled = true;
  bool checkable = false;
  bool checked = false;
  bool separator_before = false;  ///< a separator line above this item
};

struct view {
  colour icon = colour::grey;
  std::string tooltip;
  std::vector<item> menu;
  bool operator==(const view& o) const;
  bool operator!=(const view& o) const { return !(*this == o); }
};

/// Which OS's wording the menu uses ("Start with Windows" / "Start at login";
/// what Quit does differs: on Linux the service keeps running).
enum class flavour { windows, linux_session };

/// What the tray knows of the engine: the fields of `drover status` it needs.
struct engine_view {
  bool reachable = false;  ///< false: no engine answers (Linux: the service is not running)
  std::string unreachable_reason;
  std::string state;  ///< Idle | Starting | Active | Reconnecting | Failed
  std::string detail;
  std::string last_error;
  uint64_t uptime_s = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  bool udp_available = true;
  uint32_t reconnect_attempt = 0;
};

/// Per-second rates, from two successive byte counts (bytes/s).
struct rates {
  double up = 0;
  double down = 0;
};
/// The rate between two samples `seconds` apart; a counter that went back
/// (the engine restarted) gives 0, never a negative or huge number.
rates rate_between(const engine_view& before, const engine_view& after, double seconds);

struct options {
  flavour os = flavour::windows;
  bool autostart_supported = true;
  bool autostart_on = false;
};

/// grey Idle/unreachable, green Active, yellow Reconnecting/Starting or Active
/// with "no traffic" or without UDP, red Failed.
colour colour_of(const engine_view& e);
/// "2h 14m", "5m 03s", "42s".
std::string format_duration(uint64_t seconds);
/// "142 KB/s", "1.2 MB/s", "0 B/s" (1 KB = 1024 B).
std::string format_rate(double bytes_per_second);
/// The disabled first row: "Active · 2h 14m · ↑ 142 KB/s ↓ 1.2 MB/s". Padded
/// to a fixed minimum width with figure spaces, because hosts fix a menu's
/// width from the first label they see.
std::string status_row(const engine_view& e, const rates& r);
/// "Drover: Active" plus the detail or last error on a second line.
std::string tooltip(const engine_view& e);
/// The whole view.
view make_view(const engine_view& e, const rates& r, const options& o);

}  // namespace drover::tray
