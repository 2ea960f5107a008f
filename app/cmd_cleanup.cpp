// `drover cleanup`: removes the rules a crashed engine left behind (the
// unit's ExecStopPost runs it after every stop), and what `drover status`
// says when it finds them.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/commands.hpp"
#include "platform/elevation.hpp"
#include "platform/process_table.hpp"
#include "platform/redirect.hpp"
#include "platform/single_instance.hpp"

namespace drover::app {

int cmd_cleanup(const options&) {
  if (!platform::is_elevated()) {
    std::fprintf(
        stderr,
        "drover: cleanup needs root or Administrator rights (it removes the capture rules): sudo drover cleanup\n");
    return exit_failure;
  }
  // Held while removing: an engine starting meanwhile would install rules
  // this would then take away.
  auto lock = platform::single_instance::acquire();
  if (!lock) {
    std::fprintf(stderr, "drover: %s: its rules are in use; stop it with `drover stop`\n", lock.err().message.c_str());
    return exit_failure;
  }
  bool had = platform::leftover_redirect_present();
  // The unit's ExecStopPost runs this after every exit, a crash included,
  // before Restart= starts the engine again. A crashed engine's rules hold
  // new flows until the next one replaces them: removing them would send
  // targets direct meanwhile (and for good once systemd gives up). Only a
  // clean stop, or an operator, removes them.
  if (const char* result = std::getenv("SERVICE_RESULT"); result && *result && std::string(result) != "success") {
    if (had)
      std::printf(
          "drover: the engine ended with %s: its rules stay (new connections wait rather than go direct); "
          "`sudo drover cleanup` removes them\n",
          result);
    return exit_ok;
  }
  platform::remove_stale_redirect();
  if (platform::leftover_redirect_present()) {
    auto hint = platform::leftover_redirect_hint();
    std::fprintf(stderr, "drover: could not remove all of drover's capture rules%s%s\n", hint.empty() ? "" : ": ",
                 hint.c_str());
    return exit_failure;
  }
  std::printf("drover: %s\n", had ? "removed the rules a stopped engine left behind" : "nothing to clean up");
  return exit_ok;
}

std::string stale_rules_note() {
  if (!platform::is_elevated() || !platform::leftover_redirect_present()) return "";
  auto who = platform::single_instance::holder();
  if (!who.empty()) return "an engine runs in this network namespace (" + who + ") but does not answer here";
  return "not running, but its rules are still installed: new connections on this machine wait; "
         "run `sudo drover cleanup` or start drover";
}

}  // namespace drover::app
