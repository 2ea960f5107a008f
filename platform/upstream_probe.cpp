// Portable (Asio) upstream probe; one io_context per probe, every step under
// the remaining budget.
#include "platform/upstream_probe.hpp"

#include <asio.hpp>

#include "core/socks5.hpp"
#include "platform/sockets.hpp"

namespace drover::platform {
namespace {

using clock = std::chrono::steady_clock;
using asio::ip::tcp;

double ms_since(clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }

endpoint to_endpoint(const asio::ip::address& a, uint16_t port) {
  if (a.is_v4()) return endpoint::v4(a.to_v4().to_bytes(), port);
  return endpoint::v6(a.to_v6().to_bytes(), port);
}

asio::ip::address to_asio(const endpoint& e) {
  if (e.k == endpoint::kind::v4) return asio::ip::address_v4({e.ip[0], e.ip[1], e.ip[2], e.ip[3]});
  return asio::ip::address_v6(e.ip);
}

// Runs one async operation to completion or until the deadline.
class timed_io {
 public:
  explicit timed_io(clock::time_point deadline) : deadline_(deadline) {}
  asio::io_context& ctx() { return io_; }
  template <class Start>
  asio::error_code run(tcp::socket& s, Start start) {
    bool done = false;
    asio::error_code result;
    start([&](asio::error_code ec, auto&&...) {
      done = true;
      result = ec;
    });
    io_.restart();
    while (!done && clock::now() < deadline_) io_.run_one_until(deadline_);
    if (!done) {
      asio::error_code ignored;
      s.close(ignored);
      io_.restart();
      while (!done) io_.run_one();
      return asio::error::timed_out;
    }
    return result;
  }

 private:
  asio::io_context io_;
  clock::time_point deadline_;
};

}  // namespace

result<std::vector<endpoint>> resolve_host(const std::string& host, uint16_t port) {
  if (auto ip = parse_ip(host, port)) return std::vector<endpoint>{*ip};
  asio::io_context io;
  tcp::resolver r(io);
  asio::error_code ec;
  auto results = r.resolve(host, std::to_string(port), ec);
  if (ec) return make_error("resolve", "cannot resolve proxy host \"" + host + "\": " + ec.message());
  std::vector<endpoint> out;
  for (auto& e : results) out.push_back(to_endpoint(e.endpoint().address(), port));
  if (out.empty()) return make_error("resolve", "proxy host \"" + host + "\" has no address");
  return out;
}

namespace {

// The probe itself; on success `io`/`sock` hold the open association.
probe_report associate(const config::proxy_section& proxy, std::chrono::milliseconds budget,
                       std::unique_ptr<timed_io>& io_out, std::unique_ptr<tcp::socket>& sock_out,
                       bool pipeline = false) {
  probe_report rep;
  auto t_start = clock::now();
  auto deadline = t_start + budget;
  auto finish = [&](probe_step st, std::string failure) {
    st.millis = st.millis ? st.millis : ms_since(t_start);
    rep.steps.push_back(std::move(st));
    rep.failure = std::move(failure);
    rep.total_millis = ms_since(t_start);
    return rep;
  };

  auto t = clock::now();
  auto addrs = resolve_host(proxy.host, proxy.port);
  if (!addrs) return finish({"resolve", false, ms_since(t), addrs.err().message}, addrs.err().message);
  rep.proxy = addrs->front();
  if (!parse_ip(proxy.host)) rep.steps.push_back({"resolve", true, ms_since(t), rep.proxy.addr_string()});

  io_out = std::make_unique<timed_io>(deadline);
  auto& io = *io_out;
  sock_out = std::make_unique<tcp::socket>(io.ctx());
  auto& sock = *sock_out;
  t = clock::now();
  asio::error_code ec;
  tcp::endpoint target(to_asio(rep.proxy), proxy.port);
  sock.open(target.protocol(), ec);
  if (!ec) (void)set_own_mark(sock.native_handle());  // never captured by our own engine
  if (!ec) ec = io.run(sock, [&](auto h) { sock.async_connect(target, h); });
  if (ec) {
    std::string msg = "TCP connect to " + rep.proxy.to_string() + " failed: " + ec.message();
    return finish({"tcp connect", false, ms_since(t), ec.message()}, msg);
  }
  sock.set_option(tcp::no_delay(true), ec);
  rep.steps.push_back({"tcp connect", true, ms_since(t), rep.proxy.to_string()});

  socks5::credentials creds{proxy.login, proxy.password};
  socks5::handshake hs(socks5::command::udp_associate, endpoint::v4({0, 0, 0, 0}, 0), proxy.auth ? &creds : nullptr,
                       rep.proxy);
  std::vector<uint8_t> out = hs.start(pipeline);
  t = clock::now();
  bool greeted = false;
  uint8_t buf[512];
  while (true) {
    if (!out.empty()) {
      ec = io.run(sock, [&](auto h) { asio::async_write(sock, asio::buffer(out), h); });
      out.clear();
    }
    size_t n = 0;
    if (!ec)
      ec = io.run(sock, [&](auto h) {
        sock.async_read_some(asio::buffer(buf), [&n, h](asio::error_code e, size_t k) mutable {
          n = k;
          h(e);
        });
      });
    std::string step_name = greeted ? "udp associate" : "greeting";
    if (ec) {
      std::string why = ec == asio::error::eof ? "the proxy closed the connection" : ec.message();
      if (ec == asio::error::timed_out) why = "no answer within the " + std::to_string(budget.count()) + " ms budget";
      return finish({step_name, false, ms_since(t), why}, "SOCKS5 " + step_name + " failed: " + why);
    }
    auto s = hs.feed(buf, n);
    if (s.failed) {
      std::string name = s.failure.code == "request" ? "udp associate"
                         : s.failure.code == "auth"  ? "authentication"
                                                     : "greeting";
      return finish({name, false, ms_since(t), s.failure.message}, s.failure.message);
    }
    if (!greeted && hs.current_phase() != socks5::phase::greeting && hs.current_phase() != socks5::phase::auth) {
      greeted = true;
      rep.steps.push_back(
          {"greeting", true, ms_since(t), proxy.auth ? "username/password accepted" : "no authentication"});
      t = clock::now();
    }
    if (s.done) {
      rep.steps.push_back({"udp associate", true, ms_since(t), "relay " + hs.bound().to_string()});
      break;
    }
    out = std::move(s.send);
  }
  rep.ok = true;
  rep.total_millis = ms_since(t_start);
  return rep;
}

// Asio reports a failure to create its own machinery (an epoll instance when
// descriptors run out) by throwing; here that is one more failed step.
template <class F>
probe_report guarded(F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    probe_report rep;
    rep.failure = std::string("cannot run the check: ") + e.what();
    rep.steps.push_back({"setup", false, 0, e.what()});
    return rep;
  }
}

probe_report probe_once(const config::proxy_section& proxy, std::chrono::milliseconds budget) {
  std::unique_ptr<timed_io> io;
  std::unique_ptr<tcp::socket> sock;
  auto rep = associate(proxy, budget, io, sock);
  if (!rep.ok) return rep;
  // Does the proxy read past the greeting? Then each relayed connection says
  // everything at once and waits for one answer instead of two or three. A
  // proxy that does not (it drops or stalls on the extra bytes) costs only
  // this one short attempt.
  auto t = clock::now();
  std::unique_ptr<timed_io> io2;
  std::unique_ptr<tcp::socket> sock2;
  rep.pipelining = associate(proxy, std::chrono::milliseconds(500), io2, sock2, true).ok;
  rep.steps.push_back({"pipelined handshake", true, ms_since(t),
                       rep.pipelining ? "accepted: one round trip to the proxy per connection"
                                      : "not supported: each connection waits for the greeting's answer"});
  rep.total_millis += ms_since(t);
  return rep;
}

}  // namespace

probe_report probe_upstream(const config::proxy_section& proxy, std::chrono::milliseconds budget) {
  return guarded([&] { return probe_once(proxy, budget); });
}

struct upstream_watch::impl {
  std::unique_ptr<timed_io> io;
  std::unique_ptr<tcp::socket> sock;
};

upstream_watch::upstream_watch() : impl_(std::make_unique<impl>()) {}
upstream_watch::~upstream_watch() = default;

status upstream_watch::open(const config::proxy_section& proxy, std::chrono::milliseconds budget) {
  auto rep = guarded([&] { return associate(proxy, budget, impl_->io, impl_->sock); });
  if (!rep.ok) return make_error("unreachable", rep.failure);
  return ok();
}

void upstream_watch::wait_closed() {
  if (!impl_->sock) return;
  uint8_t buf[64];
  asio::error_code ec;
  while (!ec) impl_->sock->read_some(asio::buffer(buf), ec);  // the proxy sends nothing: any return is the end
}

void upstream_watch::cancel() {
  asio::error_code ec;
  if (impl_->sock) impl_->sock->shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace drover::platform
