#include "actors/udp_relay.hpp"

#include <spdlog/spdlog.h>

#include "actors/socks5_connector.hpp"
#include "core/packet.hpp"
#include "core/socks5.hpp"

namespace drover {

using asio::ip::tcp;
using asio::ip::udp;

namespace {
// The largest UDP payload an IPv4 / IPv6 datagram can carry.
constexpr size_t max_udp_v4 = 65507;
constexpr size_t max_udp_v6 = 65527;
}  // namespace

udp_session::udp_session(std::shared_ptr<data_plane> dp, endpoint client, endpoint first_dst,
                         std::shared_ptr<engine_shared> shared, std::shared_ptr<platform::udp_delivery> delivery,
                         std::function<void()> on_gone)
    : dp_(std::move(dp)),
      client_(std::move(client)),
      first_dst_(std::move(first_dst)),
      last_dst_(first_dst_),
      shared_(std::move(shared)),
      delivery_(std::move(delivery)),
      on_gone_(std::move(on_gone)),
      id_(shared_->counters.next_flow_id++),
      control_(dp_->io()),
      relay_(dp_->io()),
      idle_(dp_->io()),
      reply_check_(dp_->io()),
      last_activity_(std::chrono::steady_clock::now()),
      entry_(std::make_shared<flow_entry>()) {
  shared_->counters.udp_flows++;
  entry_->id = id_;
  entry_->protocol = "udp";
  entry_->client = client_;
  entry_->destination = first_dst_;
}

udp_session::~udp_session() {
  shared_->flows.remove(id_);
  shared_->counters.udp_flows--;
}

void udp_session::start(done_fn done) {
  done_ = std::move(done);
  registry_id_ = dp_->add(weak_from_this());
  shared_->flows.add(entry_);
  auto up = shared_->upstream();
  if (!up) return finish("no upstream configured");
  udp_timeout_ = up->udp_timeout;
  arm_idle();
  auto self = shared_from_this();
  // DST.ADDR unspecified, in the family of the proxy connection: we do not
  // know our relay-side port before binding (an IPv4 placeholder sent to an
  // IPv6 proxy is refused as "address type not supported").
  async_socks5_open(control_, *up, socks5::command::udp_associate, socks5::associate_placeholder(up->proxy),
                    [self](socks5_opened r) {
                      if (self->finished_) return;
                      if (r.failure) {
                        self->shared_->counters.flows_failed++;
                        return self->finish(r.failure->message, r.failure);
                      }
                      self->on_associated(r.bound);
                    });
}

void udp_session::on_associated(const endpoint& relay) {
  asio::error_code ec;
  relay_ep_ = relay;
  udp::endpoint ep(to_asio_address(relay), relay.port);
  relay_.open(ep.protocol(), ec);
  if (!ec) (void)platform::exclude_from_capture(relay_.native_handle());
  // Room for a burst of replies between two turns of the io thread.
  if (!ec) (void)platform::set_receive_buffer(relay_.native_handle(), 1u << 20);
  if (!ec) relay_.connect(ep, ec);
  if (ec) return finish("cannot reach the UDP relay " + relay.to_string() + ": " + ec.message());
  relay_.non_blocking(true, ec);
  ready_ = true;
  watch_control();
  read_replies();
  for (auto& d : pending_) {
    transmit(d.dst, d.bytes.data(), d.bytes.size());
    if (finished_) return;
  }
  pending_.clear();
  pending_bytes_ = 0;
}

void udp_session::send(const endpoint& dst, const uint8_t* data, size_t len) {
  if (finished_) return;
  last_activity_ = std::chrono::steady_clock::now();
  if (ready_) return transmit(dst, data, len);
  if (pending_.size() >= max_pending || pending_bytes_ + len > max_pending_bytes) return drop("queue full", len);
  pending_.push_back({dst, std::vector<uint8_t>(data, data + len)});
  pending_bytes_ += len;
}

void udp_session::drop(const char* why, size_t len) {
  shared_->counters.udp_dropped++;
  spdlog::debug("flow {}: udp datagram of {} B dropped: {}", id_, len, why);
}

void udp_session::transmit(const endpoint& dst, const uint8_t* data, size_t len) {
  auto pkt = socks5::udp_encapsulate(dst, data, len);
  // Too big once the SOCKS header is added: dropped as the network would
  // drop it; the session (and the app's relay mapping) stays.
  if (pkt.size() > (relay_ep_.k == endpoint::kind::v6 ? max_udp_v6 : max_udp_v4))
    return drop("too large with the SOCKS5 header", len);
  asio::error_code ec;
  relay_.send(asio::buffer(pkt), 0, ec);
  if (ec) {
    // A full socket buffer drops like the network would; a dead relay
    // closes the flow and the next datagram opens a fresh one.
    if (ec == asio::error::would_block || ec == asio::error::no_buffer_space || ec == asio::error::message_size)
      return drop(ec.message().c_str(), len);
    if (ec == asio::error::connection_refused) return finish_refused();
    return finish("relay send failed: " + ec.message());
  }
  last_dst_ = dst;
  bytes_out_ += len;
  shared_->counters.bytes_out.fetch_add(len, std::memory_order_relaxed);
  entry_->bytes_out.store(bytes_out_, std::memory_order_relaxed);  // one writer: this thread
  if (!reply_checked_) arm_reply_check();
}

// The relay answered with ICMP port unreachable: the proxy's UDP side is
// not there (blocked, or a relay address it should not have given). Users
// see it in last_error; the next datagram opens a fresh association.
void udp_session::finish_refused() {
  std::string msg = "the proxy's UDP relay " + relay_ep_.to_string() + " refused datagrams (ICMP port unreachable)";
  finish(msg, upstream_failure{"udp relay", msg, false});
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
      if (ec == asio::error::connection_refused) return self->finish_refused();
      if (ec) return self->finish("relay receive failed: " + ec.message());
      self->deliver(static_cast<const uint8_t*>(buf.data()), n);
      if (self->finished_) return;
    }
    self->read_replies();
  });
}

void udp_session::deliver(const uint8_t* data, size_t n) {
  auto d = socks5::udp_decapsulate(data, n);
  if (!d) return drop("malformed or fragmented reply", n);  // FRAG != 0 or malformed
  // Each reply comes from the peer the relay names, so a socket talking to
  // several peers (or a connected one) accepts it. A name (not an address)
  // can only be the peer we last wrote to.
  endpoint from = d->source.k == endpoint::kind::name ? last_dst_ : d->source;
  if (from.k != endpoint::kind::v4) return drop("reply from a non-IPv4 peer to an IPv4 socket", d->payload_len);
  if (!delivery_->deliver(from, client_, data + d->payload_offset, d->payload_len).ok())
    return drop("cannot deliver to the app", d->payload_len);
  bytes_in_ += d->payload_len;
  shared_->counters.bytes_in.fetch_add(d->payload_len, std::memory_order_relaxed);
  entry_->bytes_in.store(bytes_in_, std::memory_order_relaxed);
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

// Once per flow: datagrams went out, did anything come back? A proxy that
// accepts the association but drops UDP (blocked at its side) looks like
// this; say so where users look, not only in a debug log.
void udp_session::arm_reply_check() {
  reply_checked_ = true;
  auto self = shared_from_this();
  reply_check_.expires_after(udp_timeout_);
  reply_check_.async_wait([self](asio::error_code ec) {
    if (ec || self->finished_ || self->bytes_in_ > 0 || !self->report_) return;
    self->report_(upstream_failure{"udp relay",
                                   "no UDP reply came back through the proxy's relay " + self->relay_ep_.to_string() +
                                       " within " + std::to_string(self->udp_timeout_.count()) + " ms (to " +
                                       self->first_dst_.to_string() +
                                       "): the destination is silent, or the proxy blocks UDP",
                                   false});
  });
}

void udp_session::finish(std::string error, std::optional<upstream_failure> f) {
  if (finished_) return;
  finished_ = true;
  asio::error_code ignored;
  control_.close(ignored);
  relay_.close(ignored);
  idle_.cancel();
  reply_check_.cancel();
  dp_->remove(registry_id_);
  shared_->flows.remove(id_);
  if (on_gone_) on_gone_();
  if (done_) done_(relay_closed{bytes_in_, bytes_out_, std::move(error)}, std::move(f));
}

void udp_session::close() { finish(""); }

void udp_session::post_close() {
  auto self = shared_from_this();
  asio::post(dp_->io(), [self] { self->close(); });
}

}  // namespace drover
