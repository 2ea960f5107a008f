#include "core/log_gate.hpp"

namespace drover {

bool log_gate::admit(clock::time_point now, uint64_t& held_back) {
  if (!started_ || now - window_start_ >= window_) {
    started_ = true;
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= burst_) {
    ++held_back_;
    return false;
  }
  ++in_window_;
  held_back = held_back_;
  held_back_ = 0;
  return true;
}

}  // namespace drover
