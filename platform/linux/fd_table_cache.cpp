#include "platform/linux/fd_table_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

std::string fd_dir(uint32_t pid) { return "/proc/" + std::to_string(pid) + "/fd"; }

// One descriptor of the directory `dfd`: its socket inode, 0 if it is not a
// socket, no_such if there is no such descriptor, denied if we may not read
// it (another user's process, and no CAP_SYS_PTRACE).
constexpr int64_t no_such = -1, denied = -2;
int64_t read_descriptor(int dfd, const char* name) {
  char buf[64];
  ssize_t n = ::readlinkat(dfd, name, buf, sizeof buf);
  if (n <= 0) return errno == EACCES || errno == EPERM ? denied : no_such;
  return static_cast<int64_t>(socket_inode(buf, static_cast<size_t>(n)));
}

// Why /proc/PID/fd did not open: the process is gone, or it is not ours to
// read. The second must never pass for the first: a target whose sockets
// cannot be read would look like it holds none, and its flows go direct.
fd_table_cache::look unopened() {
  return errno == EACCES || errno == EPERM ? fd_table_cache::look::denied : fd_table_cache::look::gone;
}

}  // namespace

fd_table_cache::look fd_table_cache::find(uint32_t pid, uint64_t inode, bool only_new) {
  auto it = tables_.find(pid);
  if (only_new && it != tables_.end()) return find_new(pid, it->second, inode);
  return find_all(pid, inode);
}

// Every descriptor, read afresh (a directory listing: costly per entry).
fd_table_cache::look fd_table_cache::find_all(uint32_t pid, uint64_t inode) {
  ++listings_;
  DIR* d = ::opendir(fd_dir(pid).c_str());
  if (!d) {
    auto why = unopened();
    tables_.erase(pid);
    return why;
  }
  table now;
  bool hit = false, refused = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int64_t ino = read_descriptor(::dirfd(d), e->d_name);
    if (ino == denied) refused = true;
    if (ino < 0) continue;
    now.emplace(std::atoi(e->d_name), static_cast<uint64_t>(ino));
    if (static_cast<uint64_t>(ino) == inode) hit = true;
  }
  ::closedir(d);
  if (refused && !hit) {
    tables_.erase(pid);
    return look::denied;
  }
  tables_[pid].swap(now);
  return hit ? look::found : look::absent;
}

// Only where a new descriptor can be: the kernel hands out the lowest free
// number, so the gaps of the last listing from the lowest, then upwards past
// its end; two free numbers in a row end the search (what was opened since
// fills the lowest ones). No listing, which costs a dentry per descriptor:
// with 200 sockets in one process that was the bulk of a connection's setup;
// and a table with a far descriptor (an inherited 255) is no longer listed in
// full for every flow.
fd_table_cache::look fd_table_cache::find_new(uint32_t pid, table& known, uint64_t inode) {
  int top = -1;
  for (auto& kv : known) {
    // Held at the last look; if it has moved on since (inherited by a child),
    // the flow is proxied, never leaked.
    if (kv.second == inode) return look::found;
    top = std::max(top, kv.first);
  }
  int dfd = ::open(fd_dir(pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    auto why = unopened();
    tables_.erase(pid);
    return why;
  }
  bool hit = false;
  int misses_in_a_row = 0;
  for (int fd = 0; !hit && misses_in_a_row < 2; ++fd) {
    if (known.count(fd)) continue;
    int64_t ino = read_descriptor(dfd, std::to_string(fd).c_str());
    if (ino == denied) {
      ::close(dfd);
      tables_.erase(pid);
      return look::denied;
    }
    if (ino == no_such) {
      ++misses_in_a_row;
      continue;
    }
    misses_in_a_row = 0;
    known[fd] = static_cast<uint64_t>(ino);
    hit = static_cast<uint64_t>(ino) == inode;
  }
  if (!hit) hit = reread_sockets(dfd, known, inode, top);
  ::close(dfd);
  return hit ? look::found : look::unsure;
}

// A socket closed since the last look leaves the lowest free number, and the
// next socket takes it (an app connecting again and again: every flow).
// Those numbers, lowest first, before the caller resorts to a listing.
bool fd_table_cache::reread_sockets(int dfd, table& known, uint64_t inode, int top) {
  std::vector<int> sockets;
  for (auto& kv : known)
    if (kv.second != 0 && kv.first <= top) sockets.push_back(kv.first);
  std::sort(sockets.begin(), sockets.end());
  if (sockets.size() > max_rereads) sockets.resize(max_rereads);
  for (int fd : sockets) {
    int64_t ino = read_descriptor(dfd, std::to_string(fd).c_str());
    if (ino < 0) {  // closed, or unreadable: a full listing tells which
      known.erase(fd);
      continue;
    }
    known[fd] = static_cast<uint64_t>(ino);
    if (static_cast<uint64_t>(ino) == inode) return true;
  }
  return false;
}

void fd_table_cache::retain(const std::vector<uint32_t>& keep) {
  for (auto it = tables_.begin(); it != tables_.end();)
    it = std::find(keep.begin(), keep.end(), it->first) == keep.end() ? tables_.erase(it) : std::next(it);
}

}  // namespace drover::platform
