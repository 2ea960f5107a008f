#include "actors/relay_host.hpp"
#include "actors/exceptions.hpp"

#include <spdlog/spdlog.h>

#include <type_traits>
#include <unordered_map>

#include "actors/data_plane.hpp"
#include "actors/flow_relay.hpp"
#include "actors/socks5_connector.hpp"
#include "actors/tcp_relay.hpp"
#include "actors/udp_relay.hpp"
#include "platform/redirect.hpp"

namespace drover {
namespace {

using asio::ip::tcp;
using asio::ip::udp;

// The seam's handle type must be Asio's socket type, or handles would be cut
// short (Windows SOCKETs are 64 bits wide); on Windows native_handle() is a
// small class that converts to it.
static_assert(std::is_same_v<platform::native_socket, asio::detail::socket_type>);
static_assert(std::is_convertible_v<tcp::socket::native_handle_type, platform::native_socket>);
static_assert(std::is_convertible_v<udp::socket::native_handle_type, platform::native_socket>);

struct context {
  caf::actor_system* sys;
  std::shared_ptr<data_plane> dp;
  std::shared_ptr<engine_shared> shared;
  supervisor_actor parent;
};

// Says (at most every 10 s) why new flows are being turned away, so status
// shows it; one log line, not one per refused flow.
class overload_report {
 public:
  void operator()(const context& ctx, const std::string& why) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(10)) return;
    last_ = now;
    caf::anon_send(ctx.parent, upstream_failure{"accept", why, false});
  }

 private:
  std::chrono::steady_clock::time_point last_{};
};

std::string capacity_text(const context& ctx) {
  return "too many flows at once (" + std::to_string(ctx.shared->max_flows.load()) +
         ", the open-file limit's share): new connections are turned away until some close";
}

class tcp_listener : public session_base, public std::enable_shared_from_this<tcp_listener> {
 public:
  explicit tcp_listener(context ctx) : ctx_(std::move(ctx)), acceptor_(ctx_.dp->io()), pause_(ctx_.dp->io()) {}

  status open() {
    asio::error_code ec;
    tcp::endpoint ep(asio::ip::make_address_v4(platform::tcp_listener_address()), 0);
    acceptor_.open(ep.protocol(), ec);
    // Accepted sockets inherit it: one setsockopt per flow fewer.
    if (!ec) acceptor_.set_option(tcp::no_delay(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(1024, ec);
    if (ec)
      return make_error("listener", std::string("cannot bind the TCP listener on ") + platform::tcp_listener_address() +
                                        ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    return ok();
  }
  uint16_t port() const { return port_; }
  void start() {
    ctx_.dp->add(weak_from_this());
    accept();
  }
  void close() override {
    asio::error_code ignored;
    acceptor_.close(ignored);
    pause_.cancel();
  }

 private:
  void accept() {
    auto self = shared_from_this();
    // accept() reports the peer: no getpeername per flow for the dump's list.
    acceptor_.async_accept(peer_, [self](asio::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) {
        self->on_accept(std::move(s));
        return self->accept();
      }
      // Out of descriptors (or another accept failure): the connection stays
      // queued and would wake us at once, forever. Pause, then try again.
      self->report_(self->ctx_, "cannot accept a redirected connection: " + ec.message());
      self->pause_.expires_after(std::chrono::milliseconds(50));
      self->pause_.async_wait([self](asio::error_code e) {
        if (!e) self->accept();
      });
    });
  }

  void on_accept(tcp::socket s) {
    auto dst = platform::original_dst(s.native_handle());
    // Only redirected connections carry another destination; a direct
    // connection to the listener would loop.
    if (!dst || (dst->port == port_ && dst->addr_string() == "127.0.0.1")) return;
    if (ctx_.shared->at_capacity()) {
      ctx_.shared->counters.refused++;
      return report_(ctx_, capacity_text(ctx_));  // closing `s` turns the app away
    }
    auto session = std::make_shared<tcp_session>(ctx_.dp, std::move(s), from_asio(peer_.address(), peer_.port()), *dst,
                                                 ctx_.shared);
    launch_flow(*ctx_.sys, session, ctx_.parent, "tcp");
  }

  context ctx_;
  tcp::acceptor acceptor_;
  tcp::endpoint peer_;  ///< the app's end of the connection being accepted (one accept at a time)
  asio::steady_timer pause_;
  overload_report report_;
  uint16_t port_ = 0;
};

class udp_listener : public session_base, public std::enable_shared_from_this<udp_listener> {
 public:
  explicit udp_listener(context ctx) : ctx_(std::move(ctx)), sock_(ctx_.dp->io()) {}

  status open() {
    auto delivery = platform::open_udp_delivery();
    if (!delivery) return delivery.err();
    delivery_ = std::shared_ptr<platform::udp_delivery>(std::move(*delivery));
    asio::error_code ec;
    udp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
    sock_.open(ep.protocol(), ec);
    if (ec) return make_error("listener", "cannot open the UDP listener: " + ec.message());
    if (auto st = platform::prepare_udp_listener(sock_.native_handle()); !st) return st;
    sock_.bind(ep, ec);
    if (ec) return make_error("listener", "cannot bind the UDP listener on 127.0.0.1: " + ec.message());
    sock_.non_blocking(true, ec);
    port_ = sock_.local_endpoint().port();
    buf_.resize(65536);
    return ok();
  }
  uint16_t port() const { return port_; }
  void start() {
    ctx_.dp->add(weak_from_this());
    wait();
  }
  void close() override {
    asio::error_code ignored;
    sock_.close(ignored);
    auto copy = flows_;
    for (auto& kv : copy) kv.second->close();
  }

 private:
  // One session per client socket (address and port), whatever it sends to.
  struct key_hash {
    size_t operator()(uint64_t k) const { return std::hash<uint64_t>()(k); }
  };
  using key = uint64_t;

  static key make_key(const endpoint& c) {
    return (uint64_t{c.ip[0]} << 40) | (uint64_t{c.ip[1]} << 32) | (uint64_t{c.ip[2]} << 24) |
           (uint64_t{c.ip[3]} << 16) | c.port;
  }

  void wait() {
    auto self = shared_from_this();
    sock_.async_wait(udp::socket::wait_read, [self](asio::error_code ec) {
      if (ec || !self->sock_.is_open()) return;
      self->drain();
      self->wait();
    });
  }

  void drain() {
    for (int i = 0; i < 256; ++i) {
      auto r = platform::receive_udp(sock_.native_handle(), buf_.data(), buf_.size());
      if (!r) {
        if (r.err().code != "would_block") spdlog::warn("udp listener: {}", r.err().message);
        return;
      }
      if (r->source.k != endpoint::kind::v4 || r->original_dst.k != endpoint::kind::v4) continue;
      auto k = make_key(r->source);
      auto it = flows_.find(k);
      // Held here: a session that fails at once (no descriptor left) leaves
      // the map inside launch_flow, and must still take this datagram.
      udp_session_ptr session;
      if (it != flows_.end()) {
        session = it->second;
      } else {
        if (ctx_.shared->at_capacity()) {
          ctx_.shared->counters.udp_dropped++;
          report_(ctx_, capacity_text(ctx_));
          continue;
        }
        auto weak = std::weak_ptr<udp_listener>(shared_from_this());
        session = std::make_shared<udp_session>(ctx_.dp, r->source, r->original_dst, ctx_.shared, delivery_, [weak, k] {
          if (auto l = weak.lock()) l->flows_.erase(k);
        });
        auto parent = ctx_.parent;
        session->on_report([parent](upstream_failure f) { caf::anon_send(parent, std::move(f)); });
        flows_.emplace(k, session);
        launch_flow(*ctx_.sys, session, ctx_.parent, "udp");
      }
      session->send(r->original_dst, buf_.data(), r->len);
    }
  }

  context ctx_;
  udp::socket sock_;
  std::shared_ptr<platform::udp_delivery> delivery_;
  std::vector<uint8_t> buf_;
  std::unordered_map<key, udp_session_ptr, key_hash> flows_;
  overload_report report_;
  uint16_t port_ = 0;
};

}  // namespace

relay_host_actor::behavior_type relay_host(relay_host_actor::pointer self, std::shared_ptr<engine_shared> shared,
                                           supervisor_actor parent) {
  report_exceptions(self);
  auto dp = std::make_shared<data_plane>();
  context ctx{&self->system(), dp, shared, parent};
  auto tcp_l = std::make_shared<tcp_listener>(ctx);
  auto udp_l = std::make_shared<udp_listener>(ctx);
  std::string failure;
  if (auto st = tcp_l->open(); !st) failure = st.err().message;
  if (failure.empty())
    if (auto st = udp_l->open(); !st) failure = st.err().message;
  if (failure.empty()) {
    dp->start();
    dp->post([tcp_l, udp_l] {
      tcp_l->start();
      udp_l->start();
    });
  }
  // Exiting closes every listener and flow and joins the data-plane thread.
  self->attach_functor([dp] { dp->shutdown(); });
  return {
      [self](close_atom) { self->quit(); },
      [failure, tcp_l, udp_l](ports_atom) -> caf::result<uint16_t, uint16_t> {
        if (!failure.empty()) return caf::make_error(caf::sec::runtime_error, failure);
        return {tcp_l->port(), udp_l->port()};
      },
  };
}

}  // namespace drover
