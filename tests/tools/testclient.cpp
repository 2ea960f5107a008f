// Test client run under a target name ("droverclient") or not
// ("plainclient"): fetches HTTP, echoes TCP and UDP, and verifies every byte.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t period = 65521;
uint8_t pattern(size_t i) { return static_cast<uint8_t>(((i % period) * 7 + 13) & 0xff); }

sockaddr_in addr_of(const char* ip, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

// A TCP socket whose reads and writes give up after `ms`.
int tcp_socket(int ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

int connect_tcp(const char* ip, int port) {
  int fd = tcp_socket(10000);
  sockaddr_in sa = addr_of(ip, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const void* p, size_t n) {
  auto* c = static_cast<const char*>(p);
  while (n) {
    ssize_t w = ::write(fd, c, n);
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int http(const char* ip, int port, const std::string& path) {
  int fd = connect_tcp(ip, port);
  if (fd < 0) return std::printf("fail connect: %s\n", std::strerror(errno)), 1;
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: far\r\n\r\n";
  write_all(fd, req.data(), req.size());
  std::string head;
  std::vector<uint8_t> buf(1 << 16);
  size_t body = 0, bad = 0;
  bool in_body = false, verify = path.rfind("/bytes/", 0) == 0;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) return std::printf("fail read: %s\n", std::strerror(errno)), 1;
    if (n == 0) break;
    size_t off = 0;
    if (!in_body) {
      head.append(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n));
      auto end = head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      in_body = true;
      size_t body_in_head = head.size() - end - 4;
      off = static_cast<size_t>(n) - body_in_head;
    }
    for (size_t i = off; i < static_cast<size_t>(n); ++i, ++body)
      if (verify && buf[i] != pattern(body)) ++bad;
  }
  ::close(fd);
  bool ok = head.rfind("HTTP/1.0 200", 0) == 0 && bad == 0;
  std::printf("%s bytes=%zu corrupt=%zu\n", ok ? "ok" : "fail", body, bad);
  return ok ? 0 : 1;
}

// An IPv4 or IPv6 literal and a port.
struct endpoint {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

bool parse_endpoint(const char* ip, int port, endpoint& e) {
  e = endpoint{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.ss);
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    e.len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    e.len = sizeof *v6;
    return true;
  }
  return false;
}

bool same_endpoint(const sockaddr_storage& a, const endpoint& b) {
  if (a.ss_family != b.family()) return false;
  if (a.ss_family == AF_INET) {
    auto& x = reinterpret_cast<const sockaddr_in&>(a);
    auto& y = reinterpret_cast<const sockaddr_in&>(b.ss);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  auto& y = reinterpret_cast<const sockaddr_in6&>(b.ss);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

int local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t l = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &l) < 0) return 0;
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                                        : reinterpret_cast<sockaddr_in&>(ss).sin_port);
}

// A UDP socket for the endpoint's family; connected to it unless `connected`
// is false. Big buffers (SO_*BUFFORCE as root) so a burst is not lost here.
int udp_socket(const endpoint& e, bool connected) {
  int fd = ::socket(e.family(), SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  int big = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (connected && ::connect(fd, e.sa(), e.len) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void set_rcvtimeo(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// A datagram's payload: its index and size up front, then the pattern.
void fill(std::vector<uint8_t>& b, size_t len, uint32_t tag) {
  b.resize(len);
  for (size_t j = 0; j < len; ++j) b[j] = pattern(tag * 31u + j);
  if (len >= 8) {
    uint32_t t = htonl(tag), l = htonl(static_cast<uint32_t>(len));
    std::memcpy(b.data(), &t, 4);
    std::memcpy(b.data() + 4, &l, 4);
  }
}

int udp(const char* ip, int port, int count, int flows, int maxsize) {
  int lost = 0, corrupt = 0, received = 0;
  endpoint e;
  if (!parse_endpoint(ip, port, e)) return std::printf("fail address\n"), 2;
  for (int f = 0; f < flows; ++f) {
    // Connected: the kernel only delivers replies from exactly this address.
    int fd = udp_socket(e, true);
    if (fd < 0) return std::printf("fail connect\n"), 1;
    set_rcvtimeo(fd, 2000);
    std::vector<uint8_t> out(static_cast<size_t>(maxsize)), in(65536);
    for (int i = 0; i < count; ++i) {
      size_t len = static_cast<size_t>(i % maxsize) + 1;
      for (size_t j = 0; j < len; ++j) out[j] = pattern(static_cast<size_t>(i) * 31 + j);
      ::send(fd, out.data(), len, 0);
      ssize_t n = ::recv(fd, in.data(), in.size(), 0);
      if (n < 0) {
        ++lost;
        continue;
      }
      ++received;
      if (static_cast<size_t>(n) != len || std::memcmp(in.data(), out.data(), len) != 0) ++corrupt;
    }
    ::close(fd);
  }
  bool ok = lost == 0 && corrupt == 0;
  std::printf("%s sent=%d received=%d lost=%d corrupt=%d\n", ok ? "ok" : "fail", count * flows, received, lost,
              corrupt);
  return ok ? 0 : 1;
}

using clk = std::chrono::steady_clock;

int ms_left(clk::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clk::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

uint32_t tag_of(const uint8_t* p, ssize_t n) {
  if (n < 8) return 0xffffffffu;
  uint32_t t;
  std::memcpy(&t, p, 4);
  return ntohl(t);
}

// One unconnected socket, sendto() to two destinations each round (as
// WebRTC does: one socket, a STUN server and a media server). Every reply
// must come from the very address its datagram was sent to.
int udpmulti(const char* ip, int port1, int port2, int rounds, int size) {
  endpoint dst[2];
  if (!parse_endpoint(ip, port1, dst[0]) || !parse_endpoint(ip, port2, dst[1])) return std::printf("fail address\n"), 2;
  int fd = udp_socket(dst[0], false);
  if (fd < 0) return std::printf("fail socket\n"), 1;
  size_t len = static_cast<size_t>(std::max(size, 8));
  int sent = 0, received = 0, lost = 0, wrong_source = 0, corrupt = 0, from[2] = {0, 0};
  std::vector<uint8_t> out[2], in(65536);
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      fill(out[k], len, static_cast<uint32_t>(r * 2 + k));
      if (::sendto(fd, out[k].data(), len, 0, dst[k].sa(), dst[k].len) == static_cast<ssize_t>(len)) ++sent;
    }
    bool got[2] = {false, false};
    auto deadline = clk::now() + std::chrono::seconds(2);
    while (!(got[0] && got[1])) {
      int left = ms_left(deadline);
      if (left == 0) break;
      set_rcvtimeo(fd, left);
      sockaddr_storage src{};
      socklen_t sl = sizeof src;
      ssize_t n = ::recvfrom(fd, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&src), &sl);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        continue;
      }
      uint32_t tag = tag_of(in.data(), n);
      if (tag != static_cast<uint32_t>(r * 2) && tag != static_cast<uint32_t>(r * 2 + 1)) continue;  // late
      int k = static_cast<int>(tag - static_cast<uint32_t>(r * 2));
      if (!same_endpoint(src, dst[k])) {
        ++wrong_source;
        continue;
      }
      if (static_cast<size_t>(n) != len || std::memcmp(in.data(), out[k].data(), len) != 0) {
        ++corrupt;
        continue;
      }
      if (!got[k]) ++received, ++from[k];
      got[k] = true;
    }
    lost += !got[0] + !got[1];
  }
  bool ok = sent == rounds * 2 && received == sent && wrong_source == 0 && corrupt == 0;
  std::printf("%s sent=%d received=%d from_%d=%d from_%d=%d lost=%d wrong_source=%d corrupt=%d local_port=%d\n",
              ok ? "ok" : "fail", sent, received, port1, from[0], port2, from[1], lost, wrong_source, corrupt,
              local_port(fd));
  ::close(fd);
  return ok ? 0 : 1;
}

// Sends one datagram of `len` and waits up to `ms` for its echo (by tag).
// Returns 1 echoed, 0 no answer, -1 refused (ICMP on a connected socket).
int udp_roundtrip(int fd, const endpoint& dst, bool connected, std::vector<uint8_t>& out, size_t len, uint32_t tag,
                  int ms, int* corrupt, int* wrong_source) {
  fill(out, len, tag);
  ssize_t w = connected ? ::send(fd, out.data(), len, 0) : ::sendto(fd, out.data(), len, 0, dst.sa(), dst.len);
  if (w < 0) return errno == ECONNREFUSED ? -1 : 0;
  std::vector<uint8_t> in(65536);
  auto deadline = clk::now() + std::chrono::milliseconds(ms);
  while (true) {
    int left = ms_left(deadline);
    if (left == 0) return 0;
    set_rcvtimeo(fd, left);
    sockaddr_storage src{};
    socklen_t sl = sizeof src;
    ssize_t n = ::recvfrom(fd, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&src), &sl);
    if (n < 0) {
      if (errno == ECONNREFUSED) return -1;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      continue;
    }
    if (tag_of(in.data(), n) != tag) continue;  // a late echo of an earlier one
    if (!connected && !same_endpoint(src, dst)) {
      ++*wrong_source;
      continue;
    }
    if (static_cast<size_t>(n) != len || std::memcmp(in.data(), out.data(), len) != 0) {
      ++*corrupt;
      continue;
    }
    return 1;
  }
}

// A flow whose first datagram is `first` bytes (QUIC's Initial is >= 1,200),
// then count-1 datagrams of `size`, each echoed in turn. "refused" counts
// ICMP port unreachable seen on the connected socket.
int udpfirst(const char* ip, int port, int first, int count, int size, bool connected) {
  endpoint dst;
  if (!parse_endpoint(ip, port, dst)) return std::printf("fail address\n"), 2;
  int fd = udp_socket(dst, connected);
  if (fd < 0) return std::printf("fail socket\n"), 1;
  int received = 0, lost = 0, refused = 0, corrupt = 0, wrong_source = 0;
  std::vector<uint8_t> out;
  for (int i = 0; i < count; ++i) {
    size_t len = static_cast<size_t>(std::max(i == 0 ? first : size, 8));
    int r = udp_roundtrip(fd, dst, connected, out, len, static_cast<uint32_t>(i), 2000, &corrupt, &wrong_source);
    received += r == 1;
    lost += r == 0;
    refused += r == -1;
  }
  bool ok = received == count && corrupt == 0 && wrong_source == 0;
  std::printf("%s sent=%d received=%d lost=%d refused=%d corrupt=%d wrong_source=%d first=%d local_port=%d\n",
              ok ? "ok" : "fail", count, received, lost, refused, corrupt, wrong_source, first, local_port(fd));
  ::close(fd);
  return ok ? 0 : 1;
}

// `n` datagrams sent back to back as a flow's very first packets (a call
// starting, a game joining), then every echo collected.
int udpburst(const char* ip, int port, int n, int size) {
  endpoint dst;
  if (!parse_endpoint(ip, port, dst)) return std::printf("fail address\n"), 2;
  int fd = udp_socket(dst, true);
  if (fd < 0) return std::printf("fail socket\n"), 1;
  size_t len = static_cast<size_t>(std::max(size, 8));
  std::vector<std::vector<uint8_t>> out(static_cast<size_t>(n));
  int sent = 0;
  for (int i = 0; i < n; ++i) {
    fill(out[static_cast<size_t>(i)], len, static_cast<uint32_t>(i));
    sent += ::send(fd, out[static_cast<size_t>(i)].data(), len, 0) == static_cast<ssize_t>(len);
  }
  std::vector<bool> seen(static_cast<size_t>(n));
  int received = 0, dup = 0, corrupt = 0;
  std::vector<uint8_t> in(65536);
  auto deadline = clk::now() + std::chrono::seconds(5);
  while (received < n) {
    int left = std::min(ms_left(deadline), 2000);  // and 2 s of silence ends it
    if (left == 0) break;
    set_rcvtimeo(fd, left);
    ssize_t r = ::recv(fd, in.data(), in.size(), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    uint32_t tag = tag_of(in.data(), r);
    if (tag >= static_cast<uint32_t>(n) || static_cast<size_t>(r) != len ||
        std::memcmp(in.data(), out[tag].data(), len) != 0) {
      ++corrupt;
      continue;
    }
    if (seen[tag]) {
      ++dup;
      continue;
    }
    seen[tag] = true;
    ++received;
  }
  bool ok = sent == n && received == n && corrupt == 0;
  std::printf("%s sent=%d received=%d duplicates=%d corrupt=%d size=%zu local_port=%d\n", ok ? "ok" : "fail", sent,
              received, dup, corrupt, len, local_port(fd));
  ::close(fd);
  return ok ? 0 : 1;
}

// A flow with one oversized datagram (`big` bytes: fits in UDP, not once a
// SOCKS5 UDP header is added) between `before` and `after` normal ones of
// `size` bytes (default 64: the flow's first packet stays short).
// The normal ones must all be echoed; whether the big one is is reported.
int udpbig(const char* ip, int port, int before, int after, int big, int size, bool connected) {
  endpoint dst;
  if (!parse_endpoint(ip, port, dst)) return std::printf("fail address\n"), 2;
  int fd = udp_socket(dst, connected);
  if (fd < 0) return std::printf("fail socket\n"), 1;
  int got_before = 0, got_after = 0, corrupt = 0, wrong_source = 0;
  std::vector<uint8_t> out;
  uint32_t tag = 0;
  for (int i = 0; i < before; ++i)
    got_before +=
        udp_roundtrip(fd, dst, connected, out, static_cast<size_t>(size), tag++, 2000, &corrupt, &wrong_source) == 1;
  fill(out, static_cast<size_t>(big), 1000000);
  ssize_t w =
      connected ? ::send(fd, out.data(), out.size(), 0) : ::sendto(fd, out.data(), out.size(), 0, dst.sa(), dst.len);
  int big_sent = w == static_cast<ssize_t>(big);
  int send_errno = w < 0 ? errno : 0;
  int big_echoed = 0;
  {
    std::vector<uint8_t> in(65536);
    auto deadline = clk::now() + std::chrono::milliseconds(500);
    while (int left = ms_left(deadline)) {
      set_rcvtimeo(fd, left);
      ssize_t n = ::recv(fd, in.data(), in.size(), 0);
      if (n < 0 && errno != EINTR) break;
      if (n == big && tag_of(in.data(), n) == 1000000 && std::memcmp(in.data(), out.data(), out.size()) == 0) {
        big_echoed = 1;
        break;
      }
    }
  }
  for (int i = 0; i < after; ++i)
    got_after +=
        udp_roundtrip(fd, dst, connected, out, static_cast<size_t>(size), tag++, 2000, &corrupt, &wrong_source) == 1;
  bool ok = got_before == before && got_after == after && corrupt == 0 && wrong_source == 0;
  std::printf(
      "%s before=%d/%d after=%d/%d big=%d big_sent=%d%s%s big_echoed=%d corrupt=%d wrong_source=%d "
      "local_port=%d\n",
      ok ? "ok" : "fail", got_before, before, got_after, after, big, big_sent, send_errno ? " send_error=" : "",
      send_errno ? std::strerror(send_errno) : "", big_echoed, corrupt, wrong_source, local_port(fd));
  ::close(fd);
  return ok ? 0 : 1;
}

// One TCP connection: connect, send a line, read. Prints what happened
// (refused / reset / eof / data / timeout) and how long it took; exit 0.
int tcpprobe(const char* ip, int port, int wait_ms) {
  auto t0 = clk::now();
  auto ms = [&] {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t0).count());
  };
  int fd = tcp_socket(wait_ms);
  sockaddr_in sa = addr_of(ip, port);
  const char* what;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    what = errno == ECONNREFUSED ? "refused" : errno == EINPROGRESS || errno == EAGAIN ? "timeout" : "connect_error";
  } else {
    const char msg[] = "hello\n";
    ssize_t w = ::send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
    char buf[256];
    ssize_t n = w < 0 ? -1 : ::read(fd, buf, sizeof buf);
    int e = errno;
    what = n > 0                             ? "data"
           : n == 0                          ? "eof"
           : e == ECONNRESET || e == EPIPE   ? "reset"
           : e == ECONNREFUSED               ? "refused"
           : e == EAGAIN || e == EWOULDBLOCK ? "timeout"
                                             : "error";
  }
  std::printf("%s ms=%ld errno=%s\n", what, ms(), std::strerror(errno));
  ::close(fd);
  return 0;
}

bool echo_once(const char* ip, int port, int i) {
  int fd = connect_tcp(ip, port);
  if (fd < 0) return false;
  std::string msg = "hello " + std::to_string(i) + "\n";
  bool ok = write_all(fd, msg.data(), msg.size());
  std::string got;
  char buf[256];
  while (ok && got.size() < msg.size()) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ok && got == msg;
}

int tcpseq(const char* ip, int port, int n) {
  int failed = 0;
  for (int i = 0; i < n; ++i) failed += !echo_once(ip, port, i);
  std::printf("%s connections=%d failed=%d\n", failed ? "fail" : "ok", n, failed);
  return failed ? 1 : 0;
}

// Connects (and echoes a line) again and again for `ms`, failures allowed:
// through a restart of the engine every attempt must be proxied or fail,
// and the far server's log tells whether any went direct.
int tcpstorm(const char* ip, int port, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  int n = 0, failed = 0;
  while (std::chrono::steady_clock::now() < end) failed += !echo_once(ip, port, n++);
  std::printf("%s connections=%d failed=%d\n", n > failed ? "ok" : "fail", n, failed);
  return n > failed ? 0 : 1;
}

// A new socket, one datagram, closed: again and again for `ms`. Each is a
// new flow, so it catches any moment in which new flows are not captured
// (a TCP client would sit out such a moment in SYN retransmission).
int udpstorm(const char* ip, int port, int ms) {
  sockaddr_in sa = addr_of(ip, port);
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  int n = 0;
  while (std::chrono::steady_clock::now() < end) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) break;
    std::string msg = "storm " + std::to_string(n++);
    ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::printf("ok datagrams=%d\n", n);
  return 0;
}

int tcpconc(const char* ip, int port, int n) {
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> failed{0};
  std::mutex mu;
  std::condition_variable cv;
  int connected = 0;
  int finished = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&, i] {
      int fd = connect_tcp(ip, port);
      {
        std::unique_lock<std::mutex> g(mu);
        ++connected;
        cv.notify_all();
        // All flows open at once before any closes.
        cv.wait_for(g, std::chrono::seconds(20), [&] { return connected == n; });
      }
      if (fd < 0) {
        ++failed;
        std::lock_guard<std::mutex> g(mu);
        ++finished;
        cv.notify_all();
        return;
      }
      std::vector<char> out(1024, static_cast<char>('a' + i % 26)), in(1024);
      size_t got = 0;
      bool ok = write_all(fd, out.data(), out.size());
      while (ok && got < in.size()) {
        ssize_t r = ::read(fd, in.data() + got, in.size() - got);
        if (r <= 0) break;
        got += static_cast<size_t>(r);
      }
      if (got != in.size() || in != out) ++failed;
      {
        // And none closes before every one has been answered or turned
        // away: otherwise a quick echo frees its slot before the last
        // connections are accepted, and the flows are never all open at
        // once (a cap would not be met).
        std::unique_lock<std::mutex> g(mu);
        ++finished;
        cv.notify_all();
        cv.wait_for(g, std::chrono::seconds(20), [&] { return finished == n; });
      }
      ::close(fd);
    });
  for (auto& t : ts) t.join();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s connections=%d failed=%d ms=%.1f\n", failed ? "fail" : "ok", n, failed.load(), ms);
  return failed ? 1 : 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// Sequential connections: connect -> send -> first echoed byte, in µs.
int tcplat(const char* ip, int port, int n) {
  std::vector<double> us;
  auto t_all = clk::now();
  int failed = 0;
  for (int i = 0; i < n; ++i) {
    auto t0 = clk::now();
    int fd = connect_tcp(ip, port);
    char c = 'x';
    if (fd < 0 || ::write(fd, &c, 1) != 1 || ::read(fd, &c, 1) != 1) {
      ++failed;
    } else {
      us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
    }
    if (fd >= 0) ::close(fd);
  }
  double secs = std::chrono::duration<double>(clk::now() - t_all).count();
  std::printf("{\"connections\": %d, \"failed\": %d, \"per_s\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f}\n", n, failed,
              n / secs, percentile(us, 0.5), percentile(us, 0.99));
  return failed ? 1 : 0;
}

// Voice-like load: `flows` connected sockets, each sending `rate` datagrams
// of 160 bytes per second for `secs` seconds; RTT per datagram.
int udprtt(const char* ip, int port, int flows, int rate, int secs) {
  std::vector<int> fds;
  for (int f = 0; f < flows; ++f) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip, &sa.sin_addr);
    ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    fds.push_back(fd);
  }
  std::vector<double> rtts;
  long sent = 0, got = 0;
  auto start = clk::now();
  auto period = std::chrono::microseconds(1000000 / rate);
  auto next = start;
  char buf[2048];
  while (clk::now() - start < std::chrono::seconds(secs) + std::chrono::milliseconds(500)) {
    if (clk::now() >= next && clk::now() - start < std::chrono::seconds(secs)) {
      for (int fd : fds) {
        int64_t stamp = std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now().time_since_epoch()).count();
        char pkt[160] = {};
        std::memcpy(pkt, &stamp, sizeof stamp);
        if (::send(fd, pkt, sizeof pkt, 0) == sizeof pkt) ++sent;
      }
      next += period;
    }
    for (int fd : fds) {
      while (::recv(fd, buf, sizeof buf, 0) >= 8) {
        int64_t stamp;
        std::memcpy(&stamp, buf, sizeof stamp);
        int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now().time_since_epoch()).count();
        rtts.push_back(static_cast<double>(now - stamp) / 1000.0);
        ++got;
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  std::printf("{\"sent\": %ld, \"received\": %ld, \"loss\": %.4f, \"p50_us\": %.1f, \"p99_us\": %.1f}\n", sent, got,
              sent ? 1.0 - static_cast<double>(got) / static_cast<double>(sent) : 0.0, percentile(rtts, 0.5),
              percentile(rtts, 0.99));
  return 0;
}

// Sends `total` bytes of the pattern while reading them back from an echo
// server, then half-closes and reads to the end: both directions bulk at
// once (the relay splices them), every byte verified. half_close false:
// no shutdown, read back `total` bytes, close (for proxies that end the
// whole connection on a half-close, as shadowsocks-libev does).
int bulkecho(const char* ip, int port, size_t total, bool half_close) {
  int fd = connect_tcp(ip, port);
  if (fd < 0) return std::printf("fail connect: %s\n", std::strerror(errno)), 1;
  std::thread writer([fd, total, half_close] {
    std::vector<uint8_t> out(1 << 16);
    for (size_t sent = 0; sent < total;) {
      size_t n = std::min(out.size(), total - sent);
      for (size_t j = 0; j < n; ++j) out[j] = pattern(sent + j);
      if (!write_all(fd, out.data(), n)) return;
      sent += n;
    }
    if (half_close) ::shutdown(fd, SHUT_WR);
  });
  std::vector<uint8_t> in(1 << 16);
  size_t got = 0, corrupt = 0;
  while (half_close || got < total) {
    ssize_t r = ::read(fd, in.data(), in.size());
    if (r <= 0) break;
    for (ssize_t j = 0; j < r; ++j) corrupt += in[static_cast<size_t>(j)] != pattern(got + static_cast<size_t>(j));
    got += static_cast<size_t>(r);
  }
  if (!half_close) ::shutdown(fd, SHUT_RDWR);  // a writer stuck on a dead peer returns
  writer.join();
  ::close(fd);
  bool ok = got == total && corrupt == 0;
  std::printf("%s bytes=%zu corrupt=%zu\n", ok ? "ok" : "fail", got, corrupt);
  return ok ? 0 : 1;
}

// One flow at `pps` datagrams/s of `size` bytes for `secs` seconds against
// an echo server; loss counts what did not come back (both directions).
int udprate(const char* ip, int port, int pps, int secs, int size) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return 1;
  std::vector<char> pkt(static_cast<size_t>(std::max(size, 8)), 'u'), buf(65536);
  long sent = 0, got = 0, total = static_cast<long>(pps) * secs;
  auto start = clk::now();
  auto drain = [&] {
    while (::recv(fd, buf.data(), buf.size(), 0) > 0) ++got;
  };
  while (sent < total) {
    // Paced in 1 ms slots so the rate is even, not one burst per second.
    double elapsed = std::chrono::duration<double>(clk::now() - start).count();
    long due = std::min(total, static_cast<long>(elapsed * pps) + 1);
    while (sent < due) {
      if (::send(fd, pkt.data(), pkt.size(), 0) != static_cast<ssize_t>(pkt.size())) break;
      ++sent;
    }
    drain();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  auto end = clk::now() + std::chrono::milliseconds(500);
  while (clk::now() < end && got < sent) {
    drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("{\"pps\": %d, \"sent\": %ld, \"received\": %ld, \"loss\": %.5f}\n", pps, sent, got,
              sent ? 1.0 - static_cast<double>(got) / static_cast<double>(sent) : 1.0);
  return 0;
}

// Opens n connections and holds them for `secs` seconds (RSS per flow).
int hold(const char* ip, int port, int n, int secs) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = connect_tcp(ip, port);
    if (fd >= 0) fds.push_back(fd);
  }
  std::printf("{\"open\": %zu}\n", fds.size());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(secs));
  for (int fd : fds) ::close(fd);
  return fds.size() == static_cast<size_t>(n) ? 0 : 1;
}

// A plain poll() echo server (no thread or process per connection), so the
// latency benchmarks measure the path, not the server.
int echoserver(int port) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(lfd, 4096) < 0) return 1;
  // The same port echoes UDP too (benchmark: highest loss-free rate).
  int ufd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (::bind(ufd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return 1;
  std::vector<pollfd> fds{{lfd, POLLIN, 0}, {ufd, POLLIN, 0}};
  char buf[65536];
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    for (size_t i = fds.size(); i-- > 0;) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == ufd) {
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ssize_t n;
        while ((n = ::recvfrom(ufd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl)) >= 0) {
          ::sendto(ufd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
          fl = sizeof from;
        }
        continue;
      }
      if (fds[i].fd == lfd) {
        int c = ::accept(lfd, nullptr, nullptr);
        if (c >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          fds.push_back({c, POLLIN, 0});
        }
        continue;
      }
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0 || !write_all(fds[i].fd, buf, static_cast<size_t>(n))) {
        ::close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<long>(i));
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // "fork MODE ...": a child forked without exec runs MODE (a target's
  // helper process that is no program start of its own).
  if (argc >= 3 && std::string(argv[1]) == "fork") {
    pid_t child = ::fork();
    if (child == 0) return main(argc - 1, argv + 1);
    int st = 0;
    ::waitpid(child, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
  if (argc < 3 || (argc < 4 && std::string(argv[1]) != "echoserver")) {
    std::fprintf(
        stderr,
        "usage: %s http IP PORT PATH | udp IP PORT COUNT [FLOWS [MAXSIZE]] | tcpseq IP PORT N | tcpconc IP PORT N |\n"
        "  udpmulti IP PORT1 PORT2 ROUNDS [SIZE] | udpfirst IP PORT FIRST COUNT [SIZE [unconnected]] |\n"
        "  udpburst IP PORT N SIZE | udpbig IP PORT BEFORE AFTER BIG [SIZE [unconnected]] | tcpprobe IP PORT [WAIT_MS] "
        "|\n"
        "  tcplat IP PORT N | tcpstorm IP PORT MS | udpstorm IP PORT MS | udprtt IP PORT FLOWS RATE SECS | udprate IP "
        "PORT PPS SECS [SIZE] |\n"
        "  bulkecho IP PORT BYTES [nohalfclose] | hold IP PORT N SECS | echoserver PORT | fork MODE ...\n",
        argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "echoserver") return echoserver(std::atoi(argv[2]));
  const char* ip = argv[2];
  int port = std::atoi(argv[3]);
  if (mode == "http" && argc >= 5) return http(ip, port, argv[4]);
  if (mode == "udp" && argc >= 5)
    return udp(ip, port, std::atoi(argv[4]), argc >= 6 ? std::atoi(argv[5]) : 1, argc >= 7 ? std::atoi(argv[6]) : 1400);
  auto unconnected = [&](int i) { return argc > i && std::string(argv[i]) == "unconnected"; };
  if (mode == "udpmulti" && argc >= 6)
    return udpmulti(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), argc >= 7 ? std::atoi(argv[6]) : 200);
  if (mode == "udpfirst" && argc >= 6)
    return udpfirst(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), argc >= 7 ? std::atoi(argv[6]) : 200,
                    !unconnected(7));
  if (mode == "udpburst" && argc >= 6) return udpburst(ip, port, std::atoi(argv[4]), std::atoi(argv[5]));
  if (mode == "udpbig" && argc >= 7)
    return udpbig(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]),
                  argc >= 8 ? std::max(8, std::atoi(argv[7])) : 64, !unconnected(8));
  if (mode == "tcpprobe") return tcpprobe(ip, port, argc >= 5 ? std::atoi(argv[4]) : 12000);
  if (mode == "tcpseq" && argc >= 5) return tcpseq(ip, port, std::atoi(argv[4]));
  if (mode == "tcpstorm" && argc >= 5) return tcpstorm(ip, port, std::atoi(argv[4]));
  if (mode == "udpstorm" && argc >= 5) return udpstorm(ip, port, std::atoi(argv[4]));
  if (mode == "tcpconc" && argc >= 5) return tcpconc(ip, port, std::atoi(argv[4]));
  if (mode == "tcplat" && argc >= 5) return tcplat(ip, port, std::atoi(argv[4]));
  if (mode == "udprtt" && argc >= 7)
    return udprtt(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]));
  if (mode == "bulkecho" && argc >= 5)
    return bulkecho(ip, port, std::strtoull(argv[4], nullptr, 10),
                    !(argc >= 6 && std::string(argv[5]) == "nohalfclose"));
  if (mode == "udprate" && argc >= 6)
    return udprate(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), argc >= 7 ? std::atoi(argv[6]) : 200);
  if (mode == "hold" && argc >= 6) return hold(ip, port, std::atoi(argv[4]), std::atoi(argv[5]));
  std::fprintf(stderr, "bad arguments\n");
  return 2;
}
