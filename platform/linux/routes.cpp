#include <cstdio>
#include <fstream>
#include <string>

#include "platform/routes.hpp"

namespace drover::platform {

bool has_default_route() {
  // /proc/net/route: destination 00000000 with mask 00000000 is the default.
  std::ifstream f("/proc/net/route");
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    char iface[64];
    unsigned dest = 1, mask = 1;
    if (std::sscanf(line.c_str(), "%63s %x %*x %*x %*d %*d %*d %x", iface, &dest, &mask) == 3 && dest == 0 && mask == 0)
      return true;
  }
  std::ifstream f6("/proc/net/ipv6_route");
  while (std::getline(f6, line))
    if (line.compare(0, 35, "00000000000000000000000000000000 00") == 0) return true;
  return false;
}

}  // namespace drover::platform
