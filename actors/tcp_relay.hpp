#pragma once
/// One redirected TCP flow: SOCKS5 CONNECT to the original destination, then
/// bytes pumped both ways on the data-plane thread, half-close respected.
#include <asio.hpp>

#include <memory>

#include "actors/data_plane.hpp"
#include "actors/engine_shared.hpp"
#include "messages/messages.hpp"
#include "platform/splice_pipe.hpp"

namespace drover {

class tcp_session : public session_base, public std::enable_shared_from_this<tcp_session> {
 public:
  using done_fn = std::function<void(relay_closed, std::optional<upstream_failure>)>;
  /// `client_ep`: the app's end of `client`, as accept() reported it.
  tcp_session(std::shared_ptr<data_plane> dp, asio::ip::tcp::socket client, endpoint client_ep, endpoint original_dst,
              std::shared_ptr<engine_shared> shared);
  ~tcp_session() override;
  /// Starts on the io thread; `done` runs once, on the io thread.
  void start(done_fn done);
  void close() override;
  /// close() from any thread.
  void post_close();
  const endpoint& original_dst() const { return dst_; }
  uint64_t id() const { return id_; }

 private:
  /// One direction of the flow: copied through `buf` while it is small, moved
  /// in the kernel through `pipe` once it proves to be bulk.
  struct direction {
    asio::ip::tcp::socket* from;
    asio::ip::tcp::socket* to;
    bool upstream;
    std::vector<uint8_t> buf;
    std::unique_ptr<platform::splice_pipe> pipe;
  };
  void pump(direction& d);
  void splice_pump(direction& d);
  void grow(direction& d);
  void count(direction& d, size_t n);
  void on_eof(direction& d);
  void on_error(const asio::error_code& e);
  void finish(std::string error, std::optional<upstream_failure> f = std::nullopt);

  std::shared_ptr<data_plane> dp_;
  asio::ip::tcp::socket client_;
  asio::ip::tcp::socket upstream_;
  endpoint dst_;
  std::shared_ptr<engine_shared> shared_;
  uint64_t id_;
  direction up_, down_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  int open_directions_ = 2;
  bool finished_ = false;
  uint64_t registry_id_ = 0;
  std::shared_ptr<flow_entry> entry_;  ///< in shared_->flows while the flow is open
  done_fn done_;
};
using tcp_session_ptr = std::shared_ptr<tcp_session>;

}  // namespace drover
