#include "actors/udp_relay.hpp"

#include <spdlog/spdlog.h>

#include "actors/socks5_connector.hpp"
#include "core/packet.hpp"
#include "core/socks5.hpp"

namespace drover {

using asio::ip::tcp;
using asio::ip::udp;

udp_session::udp_session(std::shared_ptr<data_plane> dp, endpoint client, endpoint original_dst,
                         std::shared_ptr<engine_shared> shared, std::shared_ptr<platform::raw_sender> raw,
                         std::function<void()> on_gone)
    : dp_(std::move(dp)),
      client_(std::move(client)),
      dst_(std::move(original_dst)),
      shared_(std::move(shared)),
      raw_(std::move(raw)),
      on_gone_(std::move(on_gone)),
      id_(shared_->counters.next_flow_id++),
      control_(dp_->io()),
      relay_(dp_->io()),
      idle_(dp_->io()),
      last_activity_(std::chrono::steady_clock::now()) {
  shared_->counters.udp_flows++;
}

udp_session::~udp_session() { shared_->counters.udp_flows--; }

void udp_session::start(done_fn done) {
  done_ = std::move(done);
  registry_id_ = dp_->add(weak_from_this());
  auto up = shared_->upstream();
  if (!up) return finish("no upstream configured");
  arm_idle();
  auto self = shared_from_this();
  // DST.ADDR 0.0.0.0:0: we do not know our relay-side port before binding.
  async_socks5_open(control_, *up, socks5::command::udp_associate, endpoint::v4({0, 0, 0, 0}, 0),
                    [self](socks5_opened r) {
                      if (self->finished_) return;
                      if (r.failure) return self->finish(r.failure->message, r.failure);
                      self->on_associated(r.bound);
                    });
}

void udp_session::on_associated(const endpoint& relay) {
  asio::error_code ec;
  udp::endpoint ep(to_asio_address(relay), relay.port);
  relay_.open(ep.protocol(), ec);
  if (!ec) (void)platform::set_own_mark(relay_.native_handle());
  if (!ec) relay_.connect(ep, ec);
  if (ec) return finish("cannot reach the UDP relay " + relay.to_string() + ": " + ec.message());
  relay_.non_blocking(true, ec);
  ready_ = true;
  watch_control();
  read_replies();
  for (auto& d : pending_) transmit(d.data(), d.size());
  pending_.clear();
}

void udp_session::send(const uint8_t* data, size_t len) {
  if (finished_) return;
  last_activity_ = std::chrono::steady_clock::now();
  if (ready_) return transmit(data, len);
  if (pending_.size() >= 64) {
    shared_->counters.udp_dropped++;
    return;
  }
  pending_.emplace_back(data, data + len);
}

void udp_session::transmit(const uint8_t* data, size_t len) {
  auto pkt = socks5::udp_encapsulate(dst_, data, len);
  asio::error_code ec;
  relay_.send(asio::buffer(pkt), 0, ec);
  if (ec) {
    // A full socket buffer drops like the network would; a dead relay
    // closes the flow and the next datagram opens a fresh one.
    if (ec == asio::error::would_block || ec == asio::error::no_buffer_space) {
      shared_->counters.udp_dropped++;
      return;
    }
    return finish("relay send failed: " + ec.message());
  }
  bytes_out_ += len;
  shared_->counters.bytes_out.fetch_add(len, std::memory_order_relaxed);
}

void udp_session::read_replies() {
  auto self = shared_from_this();
  // Wait, then drain into the data plane's shared buffer: no buffer per flow.
  relay_.async_wait(udp::socket::wait_read, [self](asio::error_code ec) {
    if (ec) return self->finish(ec == asio::error::operation_aborted ? "" : "relay receive failed: " + ec.message());
    auto buf = self->dp_->scratch();
    for (int i = 0; i < 64; ++i) {
      size_t n = self->relay_.receive(buf, 0, ec);
      if (ec == asio::error::would_block) break;
      if (ec) return self->finish("relay receive failed: " + ec.message());
      self->deliver(static_cast<const uint8_t*>(buf.data()), n);
      if (self->finished_) return;
    }
    self->read_replies();
  });
}

void udp_session::deliver(const uint8_t* data, size_t n) {
  auto d = socks5::udp_decapsulate(data, n);
  if (!d) {
    shared_->counters.udp_dropped++;  // FRAG != 0 or malformed: dropped, counted
    return;
  }
  // The app's connected socket only accepts replies from the address it
  // sent to: answer from the original destination.
  const endpoint& from = d->source.k == endpoint::kind::v4 ? d->source : dst_;
  packet::ipv4_addr src{from.ip[0], from.ip[1], from.ip[2], from.ip[3]};
  packet::ipv4_addr dst{client_.ip[0], client_.ip[1], client_.ip[2], client_.ip[3]};
  auto pkt = packet::make_udp_v4(src, from.port, dst, client_.port, data + d->payload_offset, d->payload_len);
  if (pkt.empty() || !raw_->send(pkt, client_).ok()) {
    shared_->counters.udp_dropped++;
    return;
  }
  bytes_in_ += d->payload_len;
  shared_->counters.bytes_in.fetch_add(d->payload_len, std::memory_order_relaxed);
  last_activity_ = std::chrono::steady_clock::now();
}

void udp_session::watch_control() {
  auto self = shared_from_this();
  // The association lives as long as its control connection.
  control_.async_read_some(asio::buffer(control_buf_), [self](asio::error_code ec, size_t) {
    if (ec) return self->finish(ec == asio::error::operation_aborted ? "" : "control connection closed by the proxy");
    self->watch_control();
  });
}

void udp_session::arm_idle() {
  auto self = shared_from_this();
  idle_.expires_after(std::chrono::seconds(30));
  idle_.async_wait([self](asio::error_code ec) {
    if (ec || self->finished_) return;
    if (std::chrono::steady_clock::now() - self->last_activity_ >= idle_timeout) return self->finish("idle");
    self->arm_idle();
  });
}

void udp_session::finish(std::string error, std::optional<upstream_failure> f) {
  if (finished_) return;
  finished_ = true;
  asio::error_code ignored;
  control_.close(ignored);
  relay_.close(ignored);
  idle_.cancel();
  dp_->remove(registry_id_);
  if (on_gone_) on_gone_();
  if (done_) done_(relay_closed{bytes_in_, bytes_out_, std::move(error)}, std::move(f));
}

void udp_session::close() { finish(""); }

void udp_session::post_close() {
  auto self = shared_from_this();
  asio::post(dp_->io(), [self] { self->close(); });
}

}  // namespace drover
