// The drover executable: one binary for the engine and its CLI.
#include <cstdio>
#include <exception>

#include "app/commands.hpp"
#include "platform/elevation.hpp"

int main(int argc, char** argv) {
  using namespace drover::app;
  // Windows: drover.exe has no console of its own (none flashes up at
  // login); the verbs print into the one they were started from.
  drover::platform::attach_parent_console();
  auto parsed = parse_args(argc, argv);
  if (!parsed.opts) {
    std::fprintf(stderr, "drover: %s\n%s", parsed.error.c_str(), usage());
    return exit_usage;
  }
  const options& o = *parsed.opts;
  try {
    if (o.verb == "help") {
      std::fputs(usage(), stdout);
      return exit_ok;
    }
    if (o.verb == "version") {
      std::printf("drover %s\n", DROVER_VERSION);
      return exit_ok;
    }
    if (o.verb == "check") return cmd_check(o);
    if (o.verb == "run") return cmd_run(o);
    if (o.verb == "status") return cmd_status(o);
    if (o.verb == "stop") return cmd_stop(o);
    if (o.verb == "dump") return cmd_dump(o);
    if (o.verb == "cleanup") return cmd_cleanup(o);
    if (o.verb == "autostart") return cmd_autostart(o);
    if (o.verb == "tray") return cmd_tray(o);
  } catch (const std::exception& e) {
    // Start-up errors only: the data plane reports errors as values.
    std::fprintf(stderr, "drover: %s\n", e.what());
    return exit_failure;
  }
  return exit_usage;
}
