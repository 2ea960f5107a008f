#include "platform/paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace drover::platform {
namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : "";
}
std::string home() {
  auto h = env("HOME");
  return h.empty() ? "/root" : h;
}
}  // namespace

std::string default_config_path() {
  auto x = env("XDG_CONFIG_HOME");
  return (x.empty() ? home() + "/.config" : x) + "/drover/config.toml";
}

std::string runtime_dir() {
  auto x = env("XDG_RUNTIME_DIR");
  std::string dir = x.empty() ? "/tmp/drover-" + std::to_string(::getuid()) : x + "/drover";
  ::mkdir(dir.c_str(), 0700);
  ::chmod(dir.c_str(), 0700);
  return dir;
}

std::string control_socket_path() { return runtime_dir() + "/control.sock"; }

std::string log_dir() {
  auto x = env("XDG_STATE_HOME");
  return (x.empty() ? home() + "/.local/state" : x) + "/drover";
}

}  // namespace drover::platform
