#pragma once
/// The local control channel between `drover run` and its clients (the CLI
/// verbs, the tray): one request line in, one JSON line out, then close; a
/// "watch" client stays and gets every published line. docs/control-protocol.md
/// describes the protocol.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace drover::platform {

/// Longest request line (without its newline).
inline constexpr std::size_t control_max_request = 64 * 1024;
/// Time a client has from its connect to deliver its whole request line.
inline constexpr int control_request_timeout_ms = 2000;
/// Clients connected at once, watchers included.
inline constexpr std::size_t control_max_clients = 64;
/// Clients root may have beyond control_max_clients.
inline constexpr std::size_t control_root_reserve = 8;
/// Output a watcher may leave unread before it is dropped.
inline constexpr std::size_t control_max_watch_backlog = 256 * 1024;

/// Whether a peer may use the control channel: root, or a process whose
/// primary or supplementary group is the drover group (`drover_gid`; without
/// that group only root).
bool control_peer_allowed(uint32_t uid, uint32_t gid, const std::vector<uint32_t>& groups,
                          std::optional<uint32_t> drover_gid);

class control_server {
 public:
  /// Delivers the answer to one request (without newline). Callable from any
  /// thread, once; after the client went away or the server stopped it is
  /// dropped. A reply never called (its last copy destroyed) answers an error.
  using reply_fn = std::function<void(std::string)>;
  /// Runs on the server's thread and must not block it: slow work replies
  /// later from elsewhere. "watch" arrives as "status" (the watcher's first line).
  using handler = std::function<void(const std::string& request, reply_fn reply)>;

  control_server();
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  /// Binds the socket without serving yet, so a run learns of a taken or too
  /// long path before it starts anything. Fails ("instance_running") if
  /// another instance answers on it, or something accepts there without
  /// answering; removes a stale socket (nobody accepts). The socket is
  /// 0660 root:`group` when that group exists, else 0600. The directory is the
  /// caller's (created and checked by platform/paths). `group` is the group
  /// allowed besides root; only tests pass another one.
  status listen(const std::string& path, const std::string& group = "drover");
  /// Serves on the server's own thread; clients that connected since listen()
  /// wait in the backlog until then.
  void serve(handler h);
  /// Stops serving, closes every client and removes the socket (also done by
  /// the destructor). Not from inside the handler.
  void stop();
  /// Sends one line (without newline) to every watcher; from any thread,
  /// also while stop() runs (then it is dropped).
  void publish(const std::string& line);

 private:
  struct core;
  struct gate;
  std::shared_ptr<gate> gate_;  // how other threads reach the io thread
  std::shared_ptr<core> core_;
  std::thread thread_;
  std::string path_;
  std::pair<uint64_t, uint64_t> inode_{};  // (device, inode) of the socket we bound
};

/// Sends "watch" and calls `on_line` for every line until it returns false
/// or the instance goes away. Errors: "no_instance" when nothing listens,
/// "permission_denied".
status control_watch(const std::string& path, const std::function<bool(const std::string&)>& on_line);

/// Sends one request and returns the answer line. Errors: "no_instance" when
/// nothing listens, "permission_denied" (the socket's mode or the server
/// refused this user), "no_reply" when no answer came within `timeout_ms`.
result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms = 2000);

}  // namespace drover::platform
