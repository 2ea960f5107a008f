#pragma once
/// One redirected UDP flow (client socket -> original destination): its own
/// SOCKS5 control connection and UDP ASSOCIATE; datagrams encapsulated out,
/// replies delivered to the app from the original address.
#include <asio.hpp>

#include <chrono>
#include <deque>
#include <memory>

#include "actors/data_plane.hpp"
#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"
#include "platform/sockets.hpp"

namespace drover {

class udp_session : public session_base, public std::enable_shared_from_this<udp_session> {
 public:
  using done_fn = std::function<void(relay_closed, std::optional<upstream_failure>)>;
  udp_session(std::shared_ptr<data_plane> dp, endpoint client, endpoint original_dst,
              std::shared_ptr<engine_shared> shared, std::shared_ptr<platform::raw_sender> raw,
              std::function<void()> on_gone);
  ~udp_session() override;
  void start(done_fn done);
  /// Sends one datagram of the app (io thread); queued while the ASSOCIATE
  /// is being set up.
  void send(const uint8_t* data, size_t len);
  void close() override;
  void post_close();
  const endpoint& original_dst() const { return dst_; }
  uint64_t id() const { return id_; }

  static constexpr std::chrono::minutes idle_timeout{5};

 private:
  void on_associated(const endpoint& relay);
  void read_replies();
  void deliver(const uint8_t* data, size_t n);
  void watch_control();
  void arm_idle();
  void transmit(const uint8_t* data, size_t len);
  void finish(std::string error, std::optional<upstream_failure> f = std::nullopt);

  std::shared_ptr<data_plane> dp_;
  endpoint client_;
  endpoint dst_;
  std::shared_ptr<engine_shared> shared_;
  std::shared_ptr<platform::raw_sender> raw_;
  std::function<void()> on_gone_;
  uint64_t id_;
  asio::ip::tcp::socket control_;
  asio::ip::udp::socket relay_;
  asio::steady_timer idle_;
  std::chrono::steady_clock::time_point last_activity_;
  std::deque<std::vector<uint8_t>> pending_;
  uint8_t control_buf_[64];
  bool ready_ = false;
  bool finished_ = false;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  uint64_t registry_id_ = 0;
  done_fn done_;
};
using udp_session_ptr = std::shared_ptr<udp_session>;

}  // namespace drover
