// `drover autostart [--on|--off]`: whether Drover starts at login, and the
// switch for it (what the tray's "Start with Windows" checkbox will do). The
// user's own "disabled" in Task Manager is reported, never overridden.
#include <cstdio>

#include "app/commands.hpp"
#include "platform/autostart.hpp"

namespace drover::app {
namespace {

int report(const platform::autostart_state& s) {
  if (!s.enabled)
    std::printf("autostart: off\n");
  else if (s.disabled_by_user)
    std::printf("autostart: on, but %s\n", s.disabled_where.c_str());
  else
    std::printf("autostart: on (%s)%s\n", s.command.c_str(), s.stale ? " - names another copy of drover" : "");
  return exit_ok;
}

}  // namespace

int cmd_autostart(const options& o) {
  status st = ok();
  if (o.autostart == "on") st = platform::autostart_enable();
  if (o.autostart == "off") st = platform::autostart_disable();
  if (!st) {
    std::fprintf(stderr, "drover: %s\n", st.err().message.c_str());
    return exit_failure;
  }
  auto s = platform::autostart_status();
  if (!s) {
    std::fprintf(stderr, "drover: %s\n", s.err().message.c_str());
    return exit_failure;
  }
  return report(*s);
}

}  // namespace drover::app
