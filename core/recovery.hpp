#pragma once
/// The seed's E3 rules: which failure gets which response, and the
/// reconnect backoff schedule.
#include <chrono>
#include <optional>

namespace drover::recovery {

enum class failure_class { driver_lost, driver_gone, proxy_unreachable, exception, sleep, resume, fatal };
enum class action { retry_once, exp_backoff, fail_stop, pause, resume };

/// The E3 table.
action classify(failure_class c);
const char* to_string(failure_class c);
const char* to_string(action a);

using seconds = std::chrono::seconds;

/// Reconnect backoff: 1 s doubling to a 30 s cap; give up after 5 min total.
struct backoff {
  seconds initial{1};
  seconds cap{30};
  seconds total{300};
  /// Delay before attempt `n` (1-based): 1, 2, 4, 8, 16, 30, 30, ...
  seconds delay(unsigned attempt) const;
  /// True once `elapsed` since the first failure reaches the total cap.
  bool exhausted(seconds elapsed) const { return elapsed >= total; }
};

/// Driver loss: one reopen after 2 s; a second loss within 30 s is fatal.
struct driver_loss_policy {
  seconds reopen_after{2};
  seconds window{30};
  /// Decides for a loss at `now` given the previous loss, if any.
  template <class TimePoint>
  action on_loss(const std::optional<TimePoint>& previous, TimePoint now) const {
    if (previous && now - *previous < window) return action::fail_stop;
    return action::retry_once;
  }
};

}  // namespace drover::recovery
