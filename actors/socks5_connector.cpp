#include "actors/socks5_connector.hpp"

#include <cerrno>

#include "platform/redirect.hpp"

namespace drover {

asio::ip::address to_asio_address(const endpoint& e) {
  if (e.k == endpoint::kind::v4) return asio::ip::address_v4({e.ip[0], e.ip[1], e.ip[2], e.ip[3]});
  return asio::ip::address_v6(e.ip);
}

endpoint from_asio(const asio::ip::address& a, uint16_t port) {
  if (a.is_v4()) return endpoint::v4(a.to_v4().to_bytes(), port);
  return endpoint::v6(a.to_v6().to_bytes(), port);
}

namespace {

using asio::ip::tcp;

struct opener : std::enable_shared_from_this<opener> {
  tcp::socket& sock;
  asio::steady_timer timer;
  socks5::handshake hs;
  std::function<void(socks5_opened)> done;
  std::vector<uint8_t> out;
  uint8_t buf[512];
  bool finished = false;
  bool timed_out = false;
  bool requested = false;  ///< the proxy has our request: it is reaching the destination
  bool pipeline;
  std::string proxy_text;
  std::string target_text;
  std::chrono::milliseconds reply_timeout;

  opener(tcp::socket& s, const upstream_info& up, socks5::command cmd, endpoint target,
         std::function<void(socks5_opened)> d, socks5::credentials* creds)
      : sock(s),
        timer(s.get_executor()),
        hs(cmd, target, creds, up.proxy),
        done(std::move(d)),
        pipeline(up.pipeline),
        proxy_text(up.proxy.to_string()),
        target_text(hs_target_text(cmd, target)),
        reply_timeout(cmd == socks5::command::udp_associate ? up.udp_timeout : up.connect_timeout) {}

  static std::string hs_target_text(socks5::command cmd, const endpoint& t) {
    return cmd == socks5::command::connect ? t.to_string() : "a UDP association";
  }

  void fail(std::string step, std::string msg, bool unreachable) {
    if (finished) return;
    finished = true;
    timer.cancel();
    asio::error_code ec;
    sock.close(ec);
    socks5_opened r;
    r.failure = upstream_failure{std::move(step), std::move(msg), unreachable};
    done(std::move(r));
  }

  // Our own shortage (descriptors, buffers, memory), not the proxy's fault:
  // that flow fails, the engine does not go looking for the proxy.
  static bool local_shortage(const asio::error_code& e) {
    return e == asio::error::no_descriptors || e == asio::error::no_buffer_space || e == asio::error::no_memory ||
           e.value() == ENFILE;
  }

  // Two clocks: reaching the proxy (connect, greeting, auth) within
  // tcp_connect_timeout, and then its answer to the request (it is
  // connecting to the destination) within its own budget. Only the first
  // running out means the proxy is unreachable.
  void arm(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    timer.expires_after(timeout);
    timer.async_wait([self](asio::error_code ec) {
      if (ec || self->finished) return;
      self->timed_out = true;
      asio::error_code ignored;
      self->sock.close(ignored);
    });
  }

  void start(const upstream_info& up, std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    arm(timeout);
    tcp::endpoint ep(to_asio_address(up.proxy), up.proxy.port);
    asio::error_code ec;
    sock.open(ep.protocol(), ec);
    if (ec) return fail("tcp connect", "cannot open a socket to the proxy: " + ec.message(), !local_shortage(ec));
    auto st = platform::exclude_from_capture(sock.native_handle());
    if (!st) return fail("tcp connect", st.err().message, false);
    sock.async_connect(ep, [self](asio::error_code e) {
      if (e) {
        std::string why = self->timed_out ? "timed out" : e.message();
        return self->fail("tcp connect", "cannot reach the proxy " + self->proxy_text + ": " + why, !local_shortage(e));
      }
      asio::error_code ignored;
      self->sock.set_option(tcp::no_delay(true), ignored);
      self->out = self->hs.start(self->pipeline);
      self->write();
    });
  }

  void write() {
    auto self = shared_from_this();
    asio::async_write(sock, asio::buffer(out), [self](asio::error_code e, size_t) {
      if (e)
        return self->fail(socks5::to_string(self->hs.current_phase()), "proxy write failed: " + e.message(), false);
      self->read();
    });
  }

  void read() {
    auto self = shared_from_this();
    sock.async_read_some(asio::buffer(buf), [self](asio::error_code e, size_t n) {
      if (e) {
        std::string why = !self->timed_out  ? (e == asio::error::eof ? "the proxy closed the connection" : e.message())
                          : self->requested ? "no answer within " + std::to_string(self->reply_timeout.count()) + " ms"
                                            : "the proxy did not answer in time";
        if (self->requested)
          return self->fail("request", "the proxy could not reach " + self->target_text + ": " + why, false);
        // Silence or a hang-up before our request: the proxy is not serving.
        return self->fail(socks5::to_string(self->hs.current_phase()), why, true);
      }
      auto s = self->hs.feed(self->buf, n);
      if (s.failed) {
        if (s.failure.code == "request")
          return self->fail("request", self->target_text + ": " + s.failure.message, false);
        return self->fail(s.failure.code, s.failure.message, false);
      }
      if (!self->requested && self->hs.current_phase() == socks5::phase::request) {
        // Greeting (and auth) answered: from here the clock is the reply's.
        self->requested = true;
        self->arm(self->reply_timeout);
      }
      if (s.done) {
        self->finished = true;
        self->timer.cancel();
        socks5_opened r;
        r.bound = self->hs.bound();
        r.leftover = self->hs.take_leftover();
        return self->done(std::move(r));
      }
      if (!s.send.empty()) {
        self->out = std::move(s.send);
        return self->write();
      }
      self->read();
    });
  }
};

}  // namespace

void async_socks5_open(tcp::socket& sock, const upstream_info& up, socks5::command cmd, endpoint target,
                       std::function<void(socks5_opened)> done) {
  socks5::credentials creds{up.login, up.password};
  auto o = std::make_shared<opener>(sock, up, cmd, std::move(target), std::move(done), up.auth ? &creds : nullptr);
  // proxy.udp_associate_timeout bounds voice flows; tcp_connect_timeout the rest.
  o->start(up, cmd == socks5::command::udp_associate ? up.udp_timeout : up.connect_timeout);
}

}  // namespace drover
