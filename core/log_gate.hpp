#pragma once
/// Keeps a repeating complaint from flooding the log: the first few of each
/// window go through, the rest are counted and the count is told with the
/// next one let through. (An app retrying a destination the proxy refuses
/// would otherwise push everything else out of the rotating log.)
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace drover {

class log_gate {
 public:
  using clock = std::chrono::steady_clock;
  log_gate(size_t burst, clock::duration window) : burst_(burst), window_(window) {}
  /// True if this one is to be logged; `held_back` is then how many were not
  /// since the last one logged.
  bool admit(clock::time_point now, uint64_t& held_back);

 private:
  size_t burst_;
  clock::duration window_;
  clock::time_point window_start_{};
  bool started_ = false;
  size_t in_window_ = 0;
  uint64_t held_back_ = 0;
};

}  // namespace drover
