#pragma once
/// The engine's recent state changes, for the diagnostics dump and crash
/// dumps: a bounded list (the oldest dropped first) and the wall-clock time
/// each one happened, in ISO-8601 UTC.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace drover {

/// One change the engine went through.
struct transition_record {
  std::string time;    ///< ISO-8601 UTC, milliseconds: "2024-05-01T12:34:56.789Z"
  std::string from;    ///< state before (Idle, Starting, Active, Reconnecting, Failed)
  std::string to;      ///< state after (may equal `from`: a detail change, a driver reopen)
  std::string event;   ///< the state machine's event (core/engine_fsm to_string)
  std::string cause;   ///< why, in words (an error message); empty when the event says it all
  std::string detail;  ///< the note shown next to the new state
};

class transition_log {
 public:
  static constexpr std::size_t default_capacity = 100;
  explicit transition_log(std::size_t capacity = default_capacity) : capacity_(capacity) {}
  /// Appends `r`, dropping the oldest record past the capacity.
  void add(transition_record r);
  /// Oldest first.
  std::vector<transition_record> items() const { return {records_.begin(), records_.end()}; }
  std::size_t size() const { return records_.size(); }

 private:
  std::size_t capacity_;
  std::deque<transition_record> records_;
};

/// `t` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), computed without the C
/// library's time zone functions (gmtime is not thread-safe, and its safe
/// forms differ per OS).
std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace drover
