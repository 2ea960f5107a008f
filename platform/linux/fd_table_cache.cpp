#include "platform/linux/fd_table_cache.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace drover::platform {
namespace {

// "socket:[12345]" -> 12345; anything else -> 0.
uint64_t socket_inode(const char* link, size_t n) {
  constexpr char prefix[] = "socket:[";
  constexpr size_t p = sizeof prefix - 1;
  if (n <= p + 1 || std::memcmp(link, prefix, p) != 0 || link[n - 1] != ']') return 0;
  uint64_t v = 0;
  for (size_t i = p; i + 1 < n; ++i) {
    if (link[i] < '0' || link[i] > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(link[i] - '0');
  }
  return v;
}

}  // namespace

bool fd_table_cache::holds(uint32_t pid, uint64_t inode, bool only_new) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    tables_.erase(pid);  // gone, or not ours to read
    return false;
  }
  table& old = tables_[pid];
  table now;
  now.reserve(old.size() + 8);
  bool hit = false;
  char buf[64];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = std::atoi(e->d_name);
    uint64_t ino = 0;
    auto known = old.find(fd);
    if (only_new && known != old.end()) {
      ino = known->second;
    } else {
      ssize_t n = ::readlinkat(::dirfd(d), e->d_name, buf, sizeof buf);
      ino = n > 0 ? socket_inode(buf, static_cast<size_t>(n)) : 0;
    }
    now.emplace(fd, ino);
    if (ino == inode) hit = true;
  }
  ::closedir(d);
  old.swap(now);  // descriptors closed since the last look are dropped
  return hit;
}

void fd_table_cache::retain(const std::vector<uint32_t>& keep) {
  for (auto it = tables_.begin(); it != tables_.end();)
    it = std::find(keep.begin(), keep.end(), it->first) == keep.end() ? tables_.erase(it) : std::next(it);
}

}  // namespace drover::platform
