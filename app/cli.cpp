#include "app/cli.hpp"

#include <set>
#include <vector>

namespace drover::app {

const char* usage() {
  return "usage:\n"
         "  drover run    [--config PATH] [--no-tray]   run the engine\n"
         "  drover check  [--config PATH] [--json]      probe the configured SOCKS5 upstream\n"
         "  drover status [--json] [--watch]            state of the running engine (--watch: every change)\n"
         "  drover dump   [--out PATH]                  save a diagnostics dump\n"
         "  drover stop                                 stop the running engine\n"
         "  drover cleanup                              remove the capture rules a crashed engine left (Linux, root)\n"
         "  drover tray                                 the tray icon for the running service (Linux desktop)\n"
         "  drover autostart [--on | --off]             start at login (Windows: Drover; Linux: the tray)\n"
         "  drover version\n"
         "signals (Linux): SIGHUP reloads the config of a running engine; SIGINT/SIGTERM stop it\n"
         "exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 no running instance\n";
}

parse_outcome parse_args(int argc, const char* const* argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return {std::nullopt, "no command given"};
  options o;
  o.verb = args[0];
  o.args = args;
  if (o.verb == "--help" || o.verb == "-h") o.verb = "help";
  if (o.verb == "--version") o.verb = "version";
  static const std::set<std::string> verbs{"run",     "check",   "status", "dump",      "stop",
                                           "cleanup", "version", "help",   "autostart", "tray"};
  if (!verbs.count(o.verb)) return {std::nullopt, "unknown command '" + o.verb + "'"};
  // Which flags each verb takes; anything else is an error, not ignored.
  std::set<std::string> allowed;
  // --test-hooks is for the project's tests only (docs/control-protocol.md).
  if (o.verb == "run") allowed = {"--config", "--no-tray", "--test-hooks"};
  if (o.verb == "check") allowed = {"--config", "--json"};
  if (o.verb == "status") allowed = {"--json", "--watch"};
  if (o.verb == "dump") allowed = {"--out"};
  if (o.verb == "autostart") allowed = {"--on", "--off"};
  for (size_t i = 1; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool inline_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      inline_value = true;
    }
    if (!allowed.count(a)) return {std::nullopt, "'" + o.verb + "' does not take '" + args[i] + "'"};
    bool takes_value = a == "--config" || a == "--out";
    if (takes_value && !inline_value) {
      if (i + 1 >= args.size()) return {std::nullopt, a + " needs a value"};
      value = args[++i];
    }
    if (!takes_value && inline_value) return {std::nullopt, a + " takes no value"};
    if (takes_value && value.empty()) return {std::nullopt, a + " needs a non-empty value"};
    if ((a == "--config" && o.config_given) || (a == "--out" && !o.out_path.empty()))
      return {std::nullopt, a + " given twice"};
    if (a == "--config") {
      o.config_path = value;
      o.config_given = true;
    } else if (a == "--out") {
      o.out_path = value;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--watch") {
      o.watch = true;
    } else if (a == "--no-tray") {
      o.no_tray = true;
    } else if (a == "--test-hooks") {
      o.test_hooks = true;
    } else if (a == "--on" || a == "--off") {
      if (!o.autostart.empty()) return {std::nullopt, "give one of --on and --off"};
      o.autostart = a.substr(2);
    }
  }
  return {o, ""};
}

}  // namespace drover::app
