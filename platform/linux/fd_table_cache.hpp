#pragma once
/// Which sockets a process holds, remembered between flows. A target with
/// hundreds of descriptors (an Electron app, the benchmark's 200 concurrent
/// connections) is then read in full only when a flow's socket is not among
/// the descriptors it opened since the last look.
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace drover::platform {

class fd_table_cache {
 public:
  /// What one look at a process found. `unsure`: only the descriptors opened
  /// since the last look were read, so a reused number may still hide it.
  /// `denied`: its descriptors may not be read (another user's process and
  /// no CAP_SYS_PTRACE): whether it holds the socket cannot be told.
  enum class look { found, absent, unsure, gone, denied };
  /// Whether `pid` holds socket `inode`. With `only_new`, descriptors read
  /// before are trusted (cheap); without, every one is read again.
  look find(uint32_t pid, uint64_t inode, bool only_new);
  bool holds(uint32_t pid, uint64_t inode, bool only_new) { return find(pid, inode, only_new) == look::found; }
  /// Full listings made so far (what the quick looks exist to avoid).
  size_t listings() const { return listings_; }
  /// Forgets processes not in `keep`.
  void retain(const std::vector<uint32_t>& keep);

 private:
  using table = std::unordered_map<int, uint64_t>;  // descriptor -> socket inode (0: not a socket)
  /// Known sockets read again per quick look (the lowest numbers).
  static constexpr size_t max_rereads = 16;
  look find_all(uint32_t pid, uint64_t inode);
  look find_new(uint32_t pid, table& known, uint64_t inode);
  bool reread_sockets(int dfd, table& known, uint64_t inode, int top);
  std::unordered_map<uint32_t, table> tables_;
  size_t listings_ = 0;
};

}  // namespace drover::platform
