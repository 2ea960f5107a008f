#include "platform/elevation.hpp"

#include <unistd.h>

#include <cstdio>

namespace drover::platform {

bool is_elevated() { return ::geteuid() == 0; }

status relaunch_elevated(const std::vector<std::string>&) {
  return make_error("unsupported", "run it as root (sudo), or as the drover service");
}

status check_machine() { return ok(); }

config::target_os this_os() { return config::target_os::linux_os; }

void attach_parent_console() {}

void tell_start_failure(const std::string& sentence) { std::fprintf(stderr, "drover: %s\n", sentence.c_str()); }

}  // namespace drover::platform
