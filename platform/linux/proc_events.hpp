#pragma once
/// Processes started since the last look, as the kernel reports them (the
/// proc connector). With it, the owner of a flow that no known target owns
/// is searched among the new processes only, not among all of them (which
/// cost ~1 ms per non-target connection on a quiet machine).
#include <cstdint>
#include <vector>

namespace drover::platform {

class proc_events {
 public:
  proc_events() = default;
  ~proc_events();
  proc_events(const proc_events&) = delete;
  proc_events& operator=(const proc_events&) = delete;

  /// Subscribes; false where the kernel or our privileges do not allow it.
  bool open();
  bool is_open() const { return fd_ >= 0; }

  struct batch {
    std::vector<uint32_t> pids;  ///< new processes (not threads) and exec()s, in order
    bool lost = false;           ///< the kernel dropped events: look at everything
  };
  /// Everything reported since the last call; never blocks.
  batch drain();

 private:
  int fd_ = -1;
};

}  // namespace drover::platform
