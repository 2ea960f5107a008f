#pragma once
/// Command-line parsing for the `drover` executable. Bad input is a usage
/// error (exit 2) with a message, never a crash.
#include <optional>
#include <string>
#include <vector>

namespace drover::app {

/// Exit codes used everywhere.
enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_no_instance = 3 };

struct options {
  std::string verb;  ///< run | check | status | dump | stop | cleanup | autostart | version | help
  std::string config_path;
  bool config_given = false;
  bool json = false;
  bool no_tray = false;
  bool watch = false;
  bool test_hooks = false;  ///< run: serve the test-only control requests
  std::string out_path;
  std::string autostart;          ///< autostart: "on", "off", or empty (show the state)
  std::vector<std::string> args;  ///< every argument after the program's name (a relaunch repeats them)
};

struct parse_outcome {
  std::optional<options> opts;
  std::string error;  ///< set when opts is empty
};

parse_outcome parse_args(int argc, const char* const* argv);
const char* usage();

}  // namespace drover::app
