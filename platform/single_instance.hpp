#pragma once
/// One engine per network namespace. Two engines in one namespace fight over
/// the same netfilter chains and queue (the second removes the first one's
/// rules as "stale"), so `drover run` takes this lock before any rule work.
#include <memory>
#include <string>
#include <thread>

#include "core/result.hpp"

namespace drover::platform {

class single_instance {
 public:
  /// The name every engine locks (Linux: an abstract Unix socket name).
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

 private:
  single_instance(int listen_fd, int wake_fd);
  void serve();
  int fd_ = -1;
  int wake_ = -1;
  int file_lock_ = -1;  ///< the namespace lock (root), -1 if none
  std::string squatter_;
  std::thread thread_;
};

}  // namespace drover::platform
