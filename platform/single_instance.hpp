#pragma once
/// One engine at a time. Two engines fight over the same capture (on Linux
/// the second removes the first one's rules as "stale"), so `drover run`
/// takes this lock before any capture work. Linux: one per network
/// namespace; Windows: one per installed copy (a named mutex).
#include <memory>
#include <string>

#include "core/result.hpp"

namespace drover::platform {

class single_instance {
 public:
  /// The name every engine locks (Linux: an abstract Unix socket name;
  /// Windows: the mutex Global\\DroverInstance-<install id>).
  static constexpr const char* default_name = "drover-engine";

  /// Takes the lock, or fails with code "already_running" and a message
  /// naming the holder's pid ("already running (pid N)"); other codes for
  /// OS errors.
  static result<std::unique_ptr<single_instance>> acquire(const std::string& name = default_name);

  /// Who holds the lock, without taking it: "pid N", or empty when no one
  /// does (a `drover status` must not take it: an engine starting at that
  /// moment would find it held and give up).
  static std::string holder(const std::string& name = default_name);

  /// Set when another user squats the abstract name: the engine runs on the
  /// namespace lock alone and says so once.
  const std::string& squatter() const { return squatter_; }

  /// Releases the lock (the name is free again once this returns).
  ~single_instance();
  single_instance(const single_instance&) = delete;
  single_instance& operator=(const single_instance&) = delete;

  /// The OS's own handles (sockets, descriptors, a mutex): platform code only.
  struct impl;
  explicit single_instance(std::unique_ptr<impl> i);

 private:
  std::unique_ptr<impl> impl_;
  std::string squatter_;
};

/// What a second `drover run` does when an engine already runs: true on
/// Windows (it asks the first to show itself and exits 0: a double click on a
/// running app is not an error), false on Linux (exit 1 naming the holder).
bool second_run_activates_first();

}  // namespace drover::platform
