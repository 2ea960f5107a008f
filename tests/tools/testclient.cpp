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

int connect_tcp(const char* ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &sa.sin_addr);
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

int udp(const char* ip, int port, int count, int flows) {
  int lost = 0, corrupt = 0, received = 0;
  for (int f = 0; f < flows; ++f) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip, &sa.sin_addr);
    // Connected: the kernel only delivers replies from exactly this address.
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return std::printf("fail connect\n"), 1;
    std::vector<uint8_t> out(1400), in(2048);
    for (int i = 0; i < count; ++i) {
      size_t len = static_cast<size_t>(i % 1400) + 1;
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

int tcpconc(const char* ip, int port, int n) {
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> failed{0};
  std::mutex mu;
  std::condition_variable cv;
  int connected = 0;
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
      ::close(fd);
    });
  for (auto& t : ts) t.join();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s connections=%d failed=%d ms=%.1f\n", failed ? "fail" : "ok", n, failed.load(), ms);
  return failed ? 1 : 0;
}

using clk = std::chrono::steady_clock;

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
// once (the relay splices them), every byte verified.
int bulkecho(const char* ip, int port, size_t total) {
  int fd = connect_tcp(ip, port);
  if (fd < 0) return std::printf("fail connect: %s\n", std::strerror(errno)), 1;
  std::thread writer([fd, total] {
    std::vector<uint8_t> out(1 << 16);
    for (size_t sent = 0; sent < total;) {
      size_t n = std::min(out.size(), total - sent);
      for (size_t j = 0; j < n; ++j) out[j] = pattern(sent + j);
      if (!write_all(fd, out.data(), n)) return;
      sent += n;
    }
    ::shutdown(fd, SHUT_WR);
  });
  std::vector<uint8_t> in(1 << 16);
  size_t got = 0, corrupt = 0;
  while (true) {
    ssize_t r = ::read(fd, in.data(), in.size());
    if (r <= 0) break;
    for (ssize_t j = 0; j < r; ++j) corrupt += in[static_cast<size_t>(j)] != pattern(got + static_cast<size_t>(j));
    got += static_cast<size_t>(r);
  }
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
    std::fprintf(stderr,
                 "usage: %s http IP PORT PATH | udp IP PORT COUNT [FLOWS] | tcpseq IP PORT N | tcpconc IP PORT N |\n"
                 "  tcplat IP PORT N | udprtt IP PORT FLOWS RATE SECS | udprate IP PORT PPS SECS [SIZE] |\n"
                 "  bulkecho IP PORT BYTES | hold IP PORT N SECS | echoserver PORT | fork MODE ...\n",
                 argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "echoserver") return echoserver(std::atoi(argv[2]));
  const char* ip = argv[2];
  int port = std::atoi(argv[3]);
  if (mode == "http" && argc >= 5) return http(ip, port, argv[4]);
  if (mode == "udp" && argc >= 5) return udp(ip, port, std::atoi(argv[4]), argc >= 6 ? std::atoi(argv[5]) : 1);
  if (mode == "tcpseq" && argc >= 5) return tcpseq(ip, port, std::atoi(argv[4]));
  if (mode == "tcpconc" && argc >= 5) return tcpconc(ip, port, std::atoi(argv[4]));
  if (mode == "tcplat" && argc >= 5) return tcplat(ip, port, std::atoi(argv[4]));
  if (mode == "udprtt" && argc >= 7)
    return udprtt(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]));
  if (mode == "bulkecho" && argc >= 5) return bulkecho(ip, port, std::strtoull(argv[4], nullptr, 10));
  if (mode == "udprate" && argc >= 6)
    return udprate(ip, port, std::atoi(argv[4]), std::atoi(argv[5]), argc >= 7 ? std::atoi(argv[6]) : 200);
  if (mode == "hold" && argc >= 6) return hold(ip, port, std::atoi(argv[4]), std::atoi(argv[5]));
  std::fprintf(stderr, "bad arguments\n");
  return 2;
}
