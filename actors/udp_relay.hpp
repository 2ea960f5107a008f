#pragma once
/// One redirected UDP client socket: its own SOCKS5 control connection and
/// one UDP ASSOCIATE carrying every destination the socket sends to (RFC
/// 1928's model: a STUN server and a media server see the same relay
/// mapping); replies reach the app from each destination's own address.
#include <asio.hpp>

#include <chrono>
#include <deque>
#include <memory>

#include "actors/data_plane.hpp"
#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"
#include "platform/redirect.hpp"

namespace drover {

class udp_session : public session_base, public std::enable_shared_from_this<udp_session> {
 public:
  using done_fn = std::function<void(relay_closed, std::optional<upstream_failure>)>;
  using report_fn = std::function<void(upstream_failure)>;
  /// `first_dst`: where the socket's first datagram went (names the flow).
  udp_session(std::shared_ptr<data_plane> dp, endpoint client, endpoint first_dst,
              std::shared_ptr<engine_shared> shared, std::shared_ptr<platform::udp_delivery> delivery,
              std::function<void()> on_gone);
  ~udp_session() override;
  /// Problems that do not end the flow (no reply through the relay).
  void on_report(report_fn r) { report_ = std::move(r); }
  void start(done_fn done);
  /// Sends one datagram of the app to `dst` (io thread); queued while the
  /// association is being set up.
  void send(const endpoint& dst, const uint8_t* data, size_t len);
  void close() override;
  void post_close();
  const endpoint& original_dst() const { return first_dst_; }
  uint64_t id() const { return id_; }

  static constexpr std::chrono::minutes idle_timeout{5};
  /// Datagrams / bytes kept while the association opens (a burst at the
  /// start of a flow, e.g. a game or a call starting, must not be lost).
  static constexpr size_t max_pending = 1024;
  static constexpr size_t max_pending_bytes = 1u << 20;

 private:
  struct datagram {
    endpoint dst;
    std::vector<uint8_t> bytes;
  };
  void on_associated(const endpoint& relay);
  void read_replies();
  void deliver(const uint8_t* data, size_t n);
  void watch_control();
  void arm_idle();
  void arm_reply_check();
  void transmit(const endpoint& dst, const uint8_t* data, size_t len);
  void drop(const char* why, size_t len);
  void finish_refused();
  void finish(std::string error, std::optional<upstream_failure> f = std::nullopt);

  std::shared_ptr<data_plane> dp_;
  endpoint client_;
  endpoint first_dst_;
  endpoint last_dst_;
  endpoint relay_ep_;
  std::shared_ptr<engine_shared> shared_;
  std::shared_ptr<platform::udp_delivery> delivery_;
  std::function<void()> on_gone_;
  uint64_t id_;
  asio::ip::tcp::socket control_;
  asio::ip::udp::socket relay_;
  asio::steady_timer idle_;
  asio::steady_timer reply_check_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::milliseconds udp_timeout_{5000};
  std::deque<datagram> pending_;
  size_t pending_bytes_ = 0;
  uint8_t control_buf_[64];
  bool ready_ = false;
  bool finished_ = false;
  bool reply_checked_ = false;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  uint64_t registry_id_ = 0;
  std::shared_ptr<flow_entry> entry_;  ///< in shared_->flows while the flow is open
  done_fn done_;
  report_fn report_;
};
using udp_session_ptr = std::shared_ptr<udp_session>;

}  // namespace drover
