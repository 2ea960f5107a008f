// Portable (Asio) upstream probe; one io_context per probe. Every wait has a
// deadline: each protocol step its configured timeout (see the header), the
// watch's association one budget in all.
#include "platform/upstream_probe.hpp"

#include <asio.hpp>
#include <random>

#include "core/dns_query.hpp"
#include "core/socks5.hpp"
#include "platform/redirect.hpp"

namespace drover::platform {
namespace {

using clock = std::chrono::steady_clock;
using asio::ip::tcp;
using asio::ip::udp;
using std::chrono::milliseconds;

// The name asked of proxy.udp_check: reserved (RFC 6761), so a public
// resolver answers NXDOMAIN at once, which is a round trip all the same.
constexpr const char* check_name = "check.drover.test";

double ms_since(clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }

endpoint to_endpoint(const asio::ip::address& a, uint16_t port) {
  if (a.is_v4()) return endpoint::v4(a.to_v4().to_bytes(), port);
  return endpoint::v6(a.to_v6().to_bytes(), port);
}

asio::ip::address to_asio(const endpoint& e) {
  if (e.k == endpoint::kind::v4) return asio::ip::address_v4({e.ip[0], e.ip[1], e.ip[2], e.ip[3]});
  return asio::ip::address_v6(e.ip);
}

std::string ms_text(milliseconds m) { return std::to_string(m.count()) + " ms"; }

// Runs one async operation to completion or until its deadline; on timeout
// the socket's operations are cancelled (the socket stays open, so a UDP
// wait can be resumed after a resend).
class timed_io {
 public:
  asio::io_context& ctx() { return io_; }
  template <class Socket, class Start>
  asio::error_code run(Socket& s, clock::time_point deadline, Start start) {
    bool done = false;
    asio::error_code result;
    start([&](asio::error_code ec, auto&&...) {
      done = true;
      result = ec;
    });
    io_.restart();
    while (!done && clock::now() < deadline) io_.run_one_until(deadline);
    if (!done) {
      asio::error_code ignored;
      s.cancel(ignored);
      io_.restart();
      while (!done) io_.run_one();
      return asio::error::timed_out;
    }
    return result;
  }

 private:
  asio::io_context io_;
};

// How long each wait may take. The probe bounds each step on its own; the
// watch and the pipelining attempt bound everything by `overall` as well.
struct bounds {
  milliseconds tcp;  // TCP connect, each greeting / auth reply
  milliseconds udp;  // the ASSOCIATE reply, the UDP round trip
  clock::time_point overall = clock::time_point::max();
  clock::time_point by(milliseconds step) const {
    auto d = clock::now() + step;
    return d < overall ? d : overall;
  }
};

enum class depth { greeting, associate, round_trip };

struct session {
  std::unique_ptr<timed_io> io;
  std::unique_ptr<tcp::socket> sock;
};

// What one run found, beyond the report: did the proxy answer the request
// at all (the pipelining test), and how long its slowest reply took.
struct run_result {
  probe_report rep;
  bool request_answered = false;
  double slowest_reply_ms = 0;
};

// UDP through the open association: a DNS query to proxy.udp_check,
// encapsulated, sent to the relay, and an answer with its id back. Returns
// the step; `why` is set on failure.
probe_step round_trip(timed_io& io, const config::proxy_section& proxy, endpoint relay, const bounds& b,
                      std::string& why) {
  auto t = clock::now();
  auto deadline = b.by(b.udp);
  auto fail = [&](std::string w) {
    why = std::move(w);
    return probe_step{"udp round trip", false, ms_since(t), why};
  };
  if (!relay.is_ip()) {  // a proxy may name its relay (ATYP 03)
    auto r = resolve_host(relay.host, relay.port);
    if (!r) return fail("cannot resolve the relay " + relay.to_string() + ": " + r.err().message);
    relay = r->front();
  }
  endpoint target = proxy.udp_check;
  if (!target.is_ip()) {
    auto r = resolve_host(target.host, target.port);
    if (!r) return fail("cannot resolve proxy.udp_check " + target.to_string() + ": " + r.err().message);
    target = r->front();
  }
  udp::socket s(io.ctx());
  udp::endpoint to(to_asio(relay), relay.port);
  asio::error_code ec;
  s.open(to.protocol(), ec);
  if (!ec) (void)exclude_from_capture(s.native_handle());  // never captured by our own engine
  // Connected: only the relay's datagrams arrive, and an ICMP refusal shows.
  if (!ec) s.connect(to, ec);
  if (ec) return fail("cannot open a UDP socket to the relay " + relay.to_string() + ": " + ec.message());

  std::random_device rd;
  auto id = static_cast<uint16_t>(rd());
  auto query = dns::query_a(id, check_name);
  auto packet = socks5::udp_encapsulate(target, query.data(), query.size());
  std::vector<uint8_t> buf(65536);
  // One datagram may be lost on a real network: resend (same id, so any
  // answer counts) every second until the step's deadline.
  constexpr auto resend_every = milliseconds(1000);
  int sent = 0;
  while (clock::now() < deadline) {
    s.send(asio::buffer(packet), 0, ec);
    if (ec) break;
    ++sent;
    auto wait_until = std::min(deadline, clock::now() + resend_every);
    while (true) {
      size_t n = 0;
      ec = io.run(s, wait_until, [&](auto h) {
        s.async_receive(asio::buffer(buf), [&n, h](asio::error_code e, size_t k) mutable {
          n = k;
          h(e);
        });
      });
      if (ec) break;
      auto d = socks5::udp_decapsulate(buf.data(), n);
      if (!d) continue;  // not a SOCKS5 UDP reply: not ours
      if (dns::is_answer_to(buf.data() + d->payload_offset, d->payload_len, id))
        return {"udp round trip", true, ms_since(t),
                "DNS answer from " + target.to_string() + " through the relay " + relay.to_string()};
    }
    if (ec != asio::error::timed_out) break;
    ec.clear();
  }
  if (ec == asio::error::connection_refused)
    return fail("the relay " + relay.to_string() + " refused the datagram (ICMP port unreachable)");
  if (ec) return fail("sending through the relay " + relay.to_string() + " failed: " + ec.message());
  return fail("no answer from " + target.to_string() + " through the relay " + relay.to_string() + " within " +
              ms_text(b.udp) + " (" + std::to_string(sent) + (sent == 1 ? " query" : " queries") +
              "): the proxy does not pass UDP");
}

// Connect, greeting (+ auth), then as deep as `how` says. On success with
// depth::associate and above, `keep` holds the open association.
run_result run(const config::proxy_section& proxy, const bounds& b, depth how, bool pipeline, session& keep) {
  run_result out;
  auto& rep = out.rep;
  auto t_start = clock::now();
  auto finish = [&](probe_step st, std::string failure) {
    rep.steps.push_back(std::move(st));
    rep.failure = std::move(failure);
    rep.total_millis = ms_since(t_start);
    return out;
  };

  auto t = clock::now();
  auto addrs = resolve_host(proxy.host, proxy.port);
  if (!addrs) {
    rep.unreachable = true;
    return finish({"resolve", false, ms_since(t), addrs.err().message}, addrs.err().message);
  }
  rep.addresses = *addrs;
  rep.proxy = addrs->front();
  if (!parse_ip(proxy.host)) rep.steps.push_back({"resolve", true, ms_since(t), rep.proxy.addr_string()});

  keep.io = std::make_unique<timed_io>();
  auto& io = *keep.io;
  keep.sock = std::make_unique<tcp::socket>(io.ctx());
  auto& sock = *keep.sock;
  t = clock::now();
  asio::error_code ec;
  tcp::endpoint target(to_asio(rep.proxy), proxy.port);
  sock.open(target.protocol(), ec);
  if (!ec) (void)exclude_from_capture(sock.native_handle());  // never captured by our own engine
  if (!ec) ec = io.run(sock, b.by(b.tcp), [&](auto h) { sock.async_connect(target, h); });
  if (ec) {
    rep.unreachable = true;
    std::string why = ec == asio::error::timed_out ? "no answer within " + ms_text(b.tcp) : ec.message();
    return finish({"tcp connect", false, ms_since(t), why},
                  "TCP connect to " + rep.proxy.to_string() + " failed: " + why);
  }
  sock.set_option(tcp::no_delay(true), ec);
  rep.steps.push_back({"tcp connect", true, ms_since(t), rep.proxy.to_string()});

  socks5::credentials creds{proxy.login, proxy.password};
  socks5::handshake hs(socks5::command::udp_associate, socks5::associate_placeholder(rep.proxy),
                       proxy.auth ? &creds : nullptr, rep.proxy);
  std::vector<uint8_t> out_bytes = hs.start(pipeline);
  t = clock::now();
  auto greeted = [&] {
    return hs.current_phase() == socks5::phase::request || hs.current_phase() == socks5::phase::done;
  };
  // Each reply waited for gets its step's own deadline, set when it is due.
  auto reply_bound = [&] { return greeted() ? b.udp : b.tcp; };
  auto deadline = b.by(reply_bound());
  auto t_reply = clock::now();
  uint8_t buf[512];
  while (true) {
    if (!out_bytes.empty()) {
      ec = io.run(sock, deadline, [&](auto h) { asio::async_write(sock, asio::buffer(out_bytes), h); });
      out_bytes.clear();
    }
    size_t n = 0;
    if (!ec)
      ec = io.run(sock, deadline, [&](auto h) {
        sock.async_read_some(asio::buffer(buf), [&n, h](asio::error_code e, size_t k) mutable {
          n = k;
          h(e);
        });
      });
    std::string step_name = greeted() ? "udp associate" : "greeting";
    if (ec) {
      std::string why = ec == asio::error::eof ? "the proxy closed the connection" : ec.message();
      if (ec == asio::error::timed_out) why = "no answer within " + ms_text(reply_bound());
      std::string failure = "SOCKS5 " + step_name + " failed: " + why;
      if (greeted()) {
        rep.udp_failure = failure;
      } else {
        rep.unreachable = true;  // a proxy that does not talk is not there
      }
      return finish({step_name, false, ms_since(t), why}, failure);
    }
    bool was_greeted = greeted();
    auto phase_before = hs.current_phase();
    auto s = hs.feed(buf, n);
    if (s.failed) {
      std::string name = s.failure.code == "request" ? "udp associate"
                         : s.failure.code == "auth"  ? "authentication"
                                                     : "greeting";
      if (s.failure.code == "request") {
        out.request_answered = true;
        rep.udp_failure = s.failure.message;
      }
      out.slowest_reply_ms = std::max(out.slowest_reply_ms, ms_since(t_reply));
      return finish({name, false, ms_since(t), s.failure.message}, s.failure.message);
    }
    bool replied = hs.current_phase() != phase_before;  // a whole reply, not a part of one
    if (replied) {
      out.slowest_reply_ms = std::max(out.slowest_reply_ms, ms_since(t_reply));
      t_reply = clock::now();
      deadline = b.by(reply_bound());
    }
    if (!was_greeted && greeted()) {
      rep.tcp_ok = true;
      rep.steps.push_back(
          {"greeting", true, ms_since(t), proxy.auth ? "username/password accepted" : "no authentication"});
      if (how == depth::greeting) {
        rep.ok = true;
        rep.total_millis = ms_since(t_start);
        return out;
      }
      t = clock::now();
    }
    if (s.done) {
      out.request_answered = true;
      rep.steps.push_back({"udp associate", true, ms_since(t), "relay " + hs.bound().to_string()});
      break;
    }
    out_bytes = std::move(s.send);
  }
  if (how == depth::round_trip) {
    auto st = round_trip(io, proxy, hs.bound(), b, rep.udp_failure);
    rep.steps.push_back(st);
    if (!st.ok) {
      rep.failure = "UDP round trip failed: " + rep.udp_failure;
      rep.total_millis = ms_since(t_start);
      return out;
    }
  }
  rep.udp_ok = true;
  rep.ok = true;
  rep.total_millis = ms_since(t_start);
  return out;
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
    rep.udp_failure = rep.failure;
    rep.steps.push_back({"setup", false, 0, e.what()});
    return rep;
  }
}

probe_report probe_once(const config::proxy_section& proxy, probe_options opts) {
  bounds b{proxy.tcp_connect_timeout, proxy.udp_associate_timeout};
  session s;
  auto first = run(proxy, b, opts.udp ? depth::round_trip : depth::greeting, false, s);
  auto rep = std::move(first.rep);
  if (!opts.udp) {
    rep.udp_failure = rep.tcp_ok ? "UDP was not checked" : rep.failure;
    return rep;
  }
  if (!rep.tcp_ok && rep.udp_failure.empty()) rep.udp_failure = rep.failure;
  rep.ok = rep.tcp_ok && rep.udp_ok;
  if (!rep.tcp_ok || !opts.pipelining) return rep;
  s = {};  // the association is no longer needed
  // Does the proxy read past the greeting? Then each relayed connection says
  // everything at once and waits for one answer instead of two or three. A
  // proxy that does not (it drops or stalls on the extra bytes) costs only
  // this one attempt: bounded by a few times its slowest reply above (a slow
  // proxy is not mistaken for one that stalls), 500 ms at least. Any answer
  // to the request, even a refusal of UDP, shows it read the whole write.
  auto bound = std::chrono::duration_cast<milliseconds>(
      std::chrono::duration<double, std::milli>(std::max(500.0, 4 * first.slowest_reply_ms)));
  bound = std::min(bound, proxy.tcp_connect_timeout);
  auto t = clock::now();
  session s2;
  rep.pipelining = run(proxy, bounds{bound, bound, clock::now() + bound}, depth::associate, true, s2).request_answered;
  rep.steps.push_back({"pipelined handshake", true, ms_since(t),
                       rep.pipelining ? "accepted: one round trip to the proxy per connection"
                                      : "not supported: each connection waits for the greeting's answer"});
  rep.total_millis += ms_since(t);
  return rep;
}

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

probe_report probe_upstream(const config::proxy_section& proxy, probe_options opts) {
  return guarded([&] { return probe_once(proxy, opts); });
}

struct upstream_watch::impl {
  session s;
};

upstream_watch::upstream_watch() : impl_(std::make_unique<impl>()) {}
upstream_watch::~upstream_watch() = default;

status upstream_watch::open(const config::proxy_section& proxy, std::chrono::milliseconds budget) {
  bounds b{budget, budget, clock::now() + budget};
  auto rep = guarded([&] { return run(proxy, b, depth::associate, false, impl_->s).rep; });
  if (!rep.ok) return make_error("unreachable", rep.failure);
  return ok();
}

void upstream_watch::wait_closed() {
  if (!impl_->s.sock) return;
  uint8_t buf[64];
  asio::error_code ec;
  while (!ec) impl_->s.sock->read_some(asio::buffer(buf), ec);  // the proxy sends nothing: any return is the end
}

void upstream_watch::cancel() {
  asio::error_code ec;
  if (impl_->s.sock) impl_->s.sock->shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace drover::platform
