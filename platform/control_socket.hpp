#pragma once
/// The local control channel between `drover run` and the other CLI verbs:
/// one request line in, one response line (JSON) out.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"

namespace drover::platform {

class control_server {
 public:
  using handler = std::function<std::string(const std::string& request)>;
  control_server() = default;
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;
  /// Binds the socket (dir 0700, socket 0600) without serving yet, so a run
  /// learns of a taken or too long path before it starts anything. Fails if
  /// another instance answers on it.
  status listen(const std::string& path);
  /// Serves on a thread; clients that connected since listen() wait in the
  /// backlog until then.
  void serve(handler h);
  /// Stops serving and removes the socket (also done by the destructor).
  void stop();
  /// Sends one line to every client that asked to "watch" (state changes).
  void publish(const std::string& line);

 private:
  void serve_loop();
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::string path_;
  handler handler_;
  std::thread thread_;
  std::mutex watchers_mu_;
  std::vector<int> watchers_;
};

/// Sends "watch" and calls `on_line` for every line until it returns false
/// or the instance goes away.
status control_watch(const std::string& path, const std::function<bool(const std::string&)>& on_line);

/// Sends one request; error code "no_instance" when nothing listens.
result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms = 2000);

}  // namespace drover::platform
