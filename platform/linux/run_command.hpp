#pragma once
// Internal to the Linux platform: runs the system's tools (iptables, ip,
// xdg-open). Children start with an empty signal mask and the default
// actions (Drover blocks the stop signals for its main loop and ignores
// SIGPIPE), as if started from a shell.
#include <string>
#include <vector>

#include "core/result.hpp"

namespace drover::platform {

struct exec_result {
  bool started = false;  ///< false: it could not run; `output` says why
  int exit_code = -1;    ///< -1 when it did not start or did not exit normally
  std::string output;    ///< stdout and stderr together
};

/// Runs argv[0] from PATH with `input` on its stdin, and waits for it.
exec_result run_command(const std::vector<std::string>& argv, const std::string& input = {});

/// Starts argv[0] from PATH with our stdin, stdout and stderr; its pid, for
/// the caller to wait for.
result<int> start_command(const std::vector<std::string>& argv);

}  // namespace drover::platform
