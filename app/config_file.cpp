#include "app/config_file.hpp"

#include "platform/elevation.hpp"
#include "platform/paths.hpp"
#include "platform/read_file.hpp"

namespace drover::app {

loaded_config load_config_file(const std::string& path) {
  loaded_config out;
  out.path = path.empty() ? platform::default_config_path() : path;
  out.cfg = config::defaults(platform::this_os());
  auto text = platform::read_small_file(out.path, max_config_bytes);
  if (!text) {
    // Only "nothing there" means "use the defaults"; a file that is there
    // but unreadable is the user's config, and ignoring it would silently
    // run with settings they did not choose.
    if (text.err().code == "not_found") {
      out.missing = true;
      return out;
    }
    out.read_error = "cannot read config " + out.path + ": " + text.err().message;
    out.error = out.read_error;
    return out;
  }
  auto r = config::parse(*text, platform::this_os());
  out.cfg = r.cfg;
  for (auto& w : r.warnings) out.warnings.push_back(w.to_string(out.path));
  if (r.error) out.error = r.error->to_string(out.path);
  return out;
}

}  // namespace drover::app
