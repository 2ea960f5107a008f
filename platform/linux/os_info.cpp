// The running system: uname(2) and /etc/os-release.
#include "platform/os_info.hpp"

#include <sys/utsname.h>

#include <sstream>

#include "platform/read_file.hpp"

namespace drover::platform {
namespace {

// PRETTY_NAME="Debian GNU/Linux 12 (bookworm)" -> Debian GNU/Linux 12 (bookworm)
std::string pretty_name() {
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = read_small_file(path, 64 * 1024);
    if (!text) continue;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
      auto v = line.substr(12);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

}  // namespace

os_info describe_os() {
  os_info o;
  utsname u{};
  if (::uname(&u) == 0) {
    o.name = u.sysname;
    o.release = u.release;
    o.version = u.version;
    o.machine = u.machine;
  } else {
    o.name = "Linux";
  }
  o.distribution = pretty_name();
  return o;
}

}  // namespace drover::platform
