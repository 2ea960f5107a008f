#include "platform/process_table.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace drover::platform {
namespace {

bool all_digits(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

}  // namespace

std::string exe_name(uint32_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  char buf[4096];
  ssize_t n = ::readlink((base + "/exe").c_str(), buf, sizeof buf - 1);
  if (n > 0) {
    std::string path(buf, static_cast<size_t>(n));
    // A replaced binary reads "/path (deleted)": the name is still the name.
    const std::string deleted = " (deleted)";
    if (path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
      path.resize(path.size() - deleted.size());
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }
  // Kernel threads and processes of other users without ptrace access: comm.
  std::ifstream comm(base + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

std::vector<process_info> list_processes() {
  std::vector<process_info> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (!all_digits(e->d_name)) continue;
    uint32_t pid = static_cast<uint32_t>(std::strtoul(e->d_name, nullptr, 10));
    std::string name = exe_name(pid);
    if (!name.empty()) out.push_back({pid, std::move(name)});
  }
  ::closedir(d);
  return out;
}

uint32_t own_pid() { return static_cast<uint32_t>(::getpid()); }

}  // namespace drover::platform

namespace drover::platform {
std::string own_executable_path() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

uint64_t raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    rlim_t want = r.rlim_max;
    r.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &r) != 0 || ::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  }
  return r.rlim_cur == RLIM_INFINITY ? 0 : static_cast<uint64_t>(r.rlim_cur);
}
}  // namespace drover::platform
