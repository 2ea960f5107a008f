#pragma once
/// The local control channel between `drover run` and the other CLI verbs:
/// one request line in, one response line (JSON) out.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/result.hpp"

namespace drover::platform {

class control_server {
 public:
  using handler = std::function<std::string(const std::string& request)>;
  control_server() = default;
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;
  /// Binds the socket (dir 0700, socket 0600) and serves on a thread. Fails
  /// if another instance answers on it.
  status start(const std::string& path, handler h);
  void stop();

 private:
  void serve();
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::string path_;
  handler handler_;
  std::thread thread_;
};

/// Sends one request; error code "no_instance" when nothing listens.
result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms = 2000);

}  // namespace drover::platform
