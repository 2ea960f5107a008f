#pragma once
/// Where Drover keeps its config, control socket and logs on this OS.
#include <string>

namespace drover::platform {

std::string default_config_path();
/// Directory of the control socket (created 0700 on demand).
std::string runtime_dir();
std::string control_socket_path();
std::string log_dir();

}  // namespace drover::platform
