#pragma once
// Internal to the Linux platform: runs one of the system's tools (iptables,
// ip) and hands back what it printed.
#include <string>
#include <vector>

namespace drover::platform {

struct exec_result {
  bool started = false;  ///< false: it could not run; `output` says why
  int exit_code = -1;    ///< -1 when it did not start or did not exit normally
  std::string output;    ///< stdout and stderr together
};

/// Runs argv[0] from PATH with `input` on its stdin, and waits for it.
exec_result run_command(const std::vector<std::string>& argv, const std::string& input = {});

}  // namespace drover::platform
