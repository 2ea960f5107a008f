#include "core/socks5.hpp"

#include <cstring>

namespace drover::socks5 {

const char* to_string(phase p) {
  switch (p) {
    case phase::greeting:
      return "greeting";
    case phase::auth:
      return "authentication";
    case phase::request:
      return "request";
    case phase::done:
      return "done";
  }
  return "?";
}

std::string reply_message(uint8_t rep) {
  switch (rep) {
    case 0x00:
      return "succeeded";
    case 0x01:
      return "general SOCKS server failure";
    case 0x02:
      return "connection not allowed by the proxy's ruleset";
    case 0x03:
      return "network unreachable (from the proxy)";
    case 0x04:
      return "host unreachable (from the proxy)";
    case 0x05:
      return "connection refused by the destination";
    case 0x06:
      return "TTL expired";
    case 0x07:
      return "command not supported by the proxy";
    case 0x08:
      return "address type not supported by the proxy";
    default:
      return "unknown reply code " + std::to_string(rep);
  }
}

namespace {

// Appends by resize and memcpy: GCC 12 at -O3 warns falsely on vector
// insert after a few push_backs (-Wstringop-overflow, -Warray-bounds).
void append(std::vector<uint8_t>& out, const void* data, size_t n) {
  if (n == 0) return;
  size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, data, n);
}

bool unspecified(const endpoint& e) {
  if (!e.is_ip()) return false;
  size_t n = e.k == endpoint::kind::v4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i)
    if (e.ip[i] != 0) return false;
  return true;
}

bool loopback(const endpoint& e) {
  if (e.k == endpoint::kind::v4) return e.ip[0] == 127;
  if (e.k != endpoint::kind::v6) return false;
  for (size_t i = 0; i < 15; ++i)
    if (e.ip[i] != 0) return false;
  return e.ip[15] == 1;
}

}  // namespace

endpoint associate_placeholder(const endpoint& proxy) {
  if (proxy.k == endpoint::kind::v6) return endpoint::v6({}, 0);
  return endpoint::v4({0, 0, 0, 0}, 0);
}

void encode_address(const endpoint& e, std::vector<uint8_t>& out) {
  switch (e.k) {
    case endpoint::kind::v4:
      out.push_back(0x01);
      out.insert(out.end(), e.ip.begin(), e.ip.begin() + 4);
      break;
    case endpoint::kind::v6:
      out.push_back(0x04);
      out.insert(out.end(), e.ip.begin(), e.ip.end());
      break;
    case endpoint::kind::name: {
      out.push_back(0x03);
      size_t n = e.host.size() > 255 ? 255 : e.host.size();
      out.push_back(static_cast<uint8_t>(n));
      out.insert(out.end(), e.host.begin(), e.host.begin() + static_cast<long>(n));
      break;
    }
  }
  out.push_back(static_cast<uint8_t>(e.port >> 8));
  out.push_back(static_cast<uint8_t>(e.port));
}

result<size_t> decode_address(const uint8_t* data, size_t len, endpoint& out) {
  if (len < 1) return size_t{0};
  size_t need = 0;
  switch (data[0]) {
    case 0x01:
      need = 1 + 4 + 2;
      break;
    case 0x04:
      need = 1 + 16 + 2;
      break;
    case 0x03:
      if (len < 2) return size_t{0};
      if (data[1] == 0) return make_error("bad_reply", "empty domain name in address");
      need = 2 + data[1] + 2;
      break;
    default:
      return make_error("bad_reply", "unknown address type " + std::to_string(data[0]));
  }
  if (len < need) return size_t{0};
  uint16_t port = static_cast<uint16_t>(data[need - 2] << 8 | data[need - 1]);
  if (data[0] == 0x01) {
    out = endpoint::v4({data[1], data[2], data[3], data[4]}, port);
  } else if (data[0] == 0x04) {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), data + 1, 16);
    out = endpoint::v6(a, port);
  } else {
    out = endpoint::name(std::string(reinterpret_cast<const char*>(data + 2), data[1]), port);
  }
  return need;
}

handshake::handshake(command cmd, endpoint target, const credentials* creds, endpoint proxy)
    : cmd_(cmd), target_(std::move(target)), use_auth_(creds != nullptr), proxy_(std::move(proxy)) {
  if (creds) creds_ = *creds;
}

std::vector<uint8_t> handshake::start(bool pipeline) {
  phase_ = phase::greeting;
  std::vector<uint8_t> out{0x05, 0x01, static_cast<uint8_t>(use_auth_ ? 0x02 : 0x00)};
  // Only one method is offered, so the proxy's choice is known in advance
  // (or is a refusal, after which the rest is moot).
  pipelined_ = pipeline && (!use_auth_ || (creds_.username.size() <= 255 && creds_.password.size() <= 255));
  if (!pipelined_) return out;
  if (use_auth_) {
    auto a = auth_bytes();
    out.insert(out.end(), a.begin(), a.end());
  }
  auto r = request_bytes();
  out.insert(out.end(), r.begin(), r.end());
  return out;
}

std::vector<uint8_t> handshake::auth_bytes() const {
  std::vector<uint8_t> out;
  out.reserve(3 + creds_.username.size() + creds_.password.size());
  out.push_back(0x01);
  out.push_back(static_cast<uint8_t>(creds_.username.size()));
  append(out, creds_.username.data(), creds_.username.size());
  out.push_back(static_cast<uint8_t>(creds_.password.size()));
  append(out, creds_.password.data(), creds_.password.size());
  return out;
}

step handshake::fail(std::string code, std::string message) {
  step s;
  s.failed = true;
  s.failure = make_error(std::move(code), std::move(message));
  return s;
}

std::vector<uint8_t> handshake::request_bytes() const {
  std::vector<uint8_t> out{0x05, static_cast<uint8_t>(cmd_), 0x00};
  encode_address(target_, out);
  return out;
}

step handshake::feed(const uint8_t* data, size_t len) {
  buf_.insert(buf_.end(), data, data + len);
  switch (phase_) {
    case phase::greeting:
      return on_method();
    case phase::auth:
      return on_auth();
    case phase::request:
      return on_reply();
    case phase::done:
      return {};
  }
  return {};
}

step handshake::on_method() {
  if (buf_.size() < 2) return {};
  if (buf_[0] != 0x05)
    return fail("greeting", "the server is not a SOCKS5 proxy (version byte " + std::to_string(buf_[0]) + ")");
  uint8_t method = buf_[1];
  buf_.erase(buf_.begin(), buf_.begin() + 2);
  if (method == 0xff)
    return fail("greeting", use_auth_ ? "the proxy accepts no offered method (username/password)"
                                      : "the proxy requires authentication; set proxy.auth");
  step s;
  if (method == 0x02 && use_auth_) {
    if (creds_.username.size() > 255 || creds_.password.size() > 255)
      return fail("auth", "username or password longer than 255 bytes");
    phase_ = phase::auth;
    // Pipelined: the credentials went already; their answer may follow.
    if (pipelined_) return on_auth();
    s.send = auth_bytes();
  } else if (method == 0x00 && !use_auth_) {
    phase_ = phase::request;
    if (pipelined_) return on_reply();
    s.send = request_bytes();
  } else {
    return fail("greeting", "the proxy chose a method we did not offer (" + std::to_string(method) + ")");
  }
  if (!buf_.empty()) {
    // The proxy cannot legally send more before our next message.
    return fail("greeting", "unexpected bytes after the method reply");
  }
  return s;
}

step handshake::on_auth() {
  if (buf_.size() < 2) return {};
  if (buf_[0] != 0x01) return fail("auth", "malformed authentication reply");
  if (buf_[1] != 0x00) return fail("auth", "authentication failed: the proxy rejected the username or password");
  buf_.erase(buf_.begin(), buf_.begin() + 2);
  phase_ = phase::request;
  if (pipelined_) return on_reply();
  step s;
  s.send = request_bytes();
  return s;
}

step handshake::on_reply() {
  if (buf_.size() < 4) return {};
  if (buf_[0] != 0x05) return fail("request", "malformed reply (version " + std::to_string(buf_[0]) + ")");
  if (buf_[1] != 0x00) {
    std::string msg = reply_message(buf_[1]);
    if (buf_[1] == 0x07 && cmd_ == command::udp_associate)
      msg = "the proxy does not support UDP ASSOCIATE (voice will not work)";
    return fail("request", msg);
  }
  endpoint b;
  auto used = decode_address(buf_.data() + 3, buf_.size() - 3, b);
  if (!used) return fail("request", used.err().message);
  if (*used == 0) return {};
  // RFC 1928 allows 0.0.0.0 meaning "the address you reached me at". A
  // loopback relay (hpsockd answers 127.0.0.1) can only mean the same for a
  // proxy on another host; for CONNECT, BND is the proxy's side of its own
  // connection, shown and never used, so it stays as said.
  if (unspecified(b) || (cmd_ == command::udp_associate && loopback(b))) {
    uint16_t port = b.port;
    b = proxy_;
    b.port = port;
  }
  bound_ = b;
  buf_.erase(buf_.begin(), buf_.begin() + 3 + static_cast<long>(*used));
  phase_ = phase::done;
  step s;
  s.done = true;
  return s;
}

std::vector<uint8_t> handshake::take_leftover() {
  std::vector<uint8_t> out;
  out.swap(buf_);
  return out;
}

std::vector<uint8_t> udp_encapsulate(const endpoint& dst, const uint8_t* payload, size_t len) {
  std::vector<uint8_t> out;
  out.reserve(len + 22);
  out.resize(3, 0x00);  // RSV RSV FRAG
  encode_address(dst, out);
  append(out, payload, len);
  return out;
}

result<udp_datagram> udp_decapsulate(const uint8_t* data, size_t len) {
  if (len < 4) return make_error("udp_short", "SOCKS5 UDP datagram shorter than its header");
  if (data[2] != 0x00) return make_error("udp_frag", "fragmented SOCKS5 UDP datagram dropped");
  udp_datagram d;
  auto used = decode_address(data + 3, len - 3, d.source);
  if (!used) return used.err();
  if (*used == 0) return make_error("udp_short", "SOCKS5 UDP header truncated");
  d.payload_offset = 3 + *used;
  d.payload_len = len - d.payload_offset;
  return d;
}

}  // namespace drover::socks5
