#pragma once
/// Processes and their executable file names.
#include <cstdint>
#include <string>
#include <vector>

namespace drover::platform {

struct process_info {
  uint32_t pid;
  std::string exe;  ///< executable file name (no directory)
};

/// Every process visible to us (Linux: /proc; Windows: Toolhelp32).
std::vector<process_info> list_processes();
/// The executable file name of one process, empty if it is gone.
std::string exe_name(uint32_t pid);
uint32_t own_pid();
/// The full path of this executable (empty if unknown).
std::string own_executable_path();

}  // namespace drover::platform

namespace drover::platform {
/// Raises the open-file limit to its hard maximum (many flows, many sockets)
/// and returns the limit in force (0 if unknown).
uint64_t raise_fd_limit();
}  // namespace drover::platform
