// `drover cleanup`: removes the rules a crashed engine left behind (the
// unit's ExecStopPost runs it after every stop), and what `drover status`
// says when it finds them.
#include <cstdio>

#include "app/commands.hpp"
#include "platform/process_table.hpp"
#include "platform/redirect_rules.hpp"
#include "platform/single_instance.hpp"

namespace drover::app {

int cmd_cleanup(const options&) {
  if (!platform::is_elevated()) {
    std::fprintf(stderr, "drover: cleanup needs root (it removes netfilter rules): sudo drover cleanup\n");
    return exit_failure;
  }
  // Held while removing: an engine starting meanwhile would install rules
  // this would then take away.
  auto lock = platform::single_instance::acquire();
  if (!lock) {
    std::fprintf(stderr, "drover: %s: its rules are in use; stop it with `drover stop`\n", lock.err().message.c_str());
    return exit_failure;
  }
  bool had = platform::leftover_rules_present();
  platform::remove_stale_rules(filter::linux_params{});
  if (platform::leftover_rules_present()) {
    std::fprintf(stderr, "drover: could not remove all of drover's rules (see `iptables-save | grep DROVER`)\n");
    return exit_failure;
  }
  std::printf("drover: %s\n", had ? "removed the rules a stopped engine left behind" : "nothing to clean up");
  return exit_ok;
}

std::string stale_rules_note() {
  if (!platform::is_elevated() || !platform::leftover_rules_present()) return "";
  auto who = platform::single_instance::holder();
  if (!who.empty()) return "an engine runs in this network namespace (" + who + ") but does not answer here";
  return "not running, but its rules are still installed: new connections on this machine wait; "
         "run `sudo drover cleanup` or start drover";
}

}  // namespace drover::app
