#include "app/config_file.hpp"

#include <fstream>
#include <sstream>

#include "platform/paths.hpp"

namespace drover::app {

config::target_os this_os() {
#ifdef _WIN32
  return config::target_os::windows;
#else
  return config::target_os::linux_os;
#endif
}

loaded_config load_config_file(const std::string& path) {
  loaded_config out;
  out.path = path.empty() ? platform::default_config_path() : path;
  out.cfg = config::defaults(this_os());
  std::ifstream f(out.path, std::ios::binary);
  if (!f) {
    out.missing = true;
    return out;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto r = config::parse(ss.str(), this_os());
  out.cfg = r.cfg;
  for (auto& w : r.warnings) out.warnings.push_back(w.to_string(out.path));
  if (r.error) out.error = r.error->to_string(out.path);
  return out;
}

}  // namespace drover::app
