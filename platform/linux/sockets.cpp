#include "platform/redirect.hpp"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/filter.hpp"
#include "core/packet.hpp"
#include "platform/unique_fd.hpp"

namespace drover::platform {
namespace {

error os_error(const char* what) { return make_error("socket", std::string(what) + ": " + std::strerror(errno)); }

endpoint from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    std::array<uint8_t, 16> ip{};
    std::memcpy(ip.data(), &a.sin6_addr, 16);
    return endpoint::v6(ip, ntohs(a.sin6_port));
  }
  auto& a = reinterpret_cast<const sockaddr_in&>(ss);
  std::array<uint8_t, 4> ip{};
  std::memcpy(ip.data(), &a.sin_addr, 4);
  return endpoint::v4(ip, ntohs(a.sin_port));
}

status set_mark(native_socket s, uint32_t m) {
  if (::setsockopt(s, SOL_SOCKET, SO_MARK, &m, sizeof m) < 0) return os_error("SO_MARK");
  return ok();
}

}  // namespace

status exclude_from_capture(native_socket s) { return set_mark(s, filter::mark::own); }

status set_receive_buffer(native_socket s, int bytes) {
  // SO_RCVBUFFORCE ignores net.core.rmem_max (needs CAP_NET_ADMIN, which
  // the engine has); plain SO_RCVBUF is capped by it.
  if (::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return ok();
  if (::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0) return ok();
  return os_error("SO_RCVBUF");
}

result<endpoint> original_dst(native_socket s) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockopt(s, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0) return from_sockaddr(ss);
  len = sizeof ss;
  if (::getsockopt(s, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) == 0) return from_sockaddr(ss);
  return os_error("SO_ORIGINAL_DST");
}

// The kernel's REDIRECT reaches a loopback listener.
const char* tcp_listener_address() { return "127.0.0.1"; }

// TPROXY delivers to a transparent socket, with the original destination
// as ancillary data.
status prepare_udp_listener(native_socket s) {
  int on = 1;
  if (::setsockopt(s, SOL_IP, IP_TRANSPARENT, &on, sizeof on) < 0) return os_error("IP_TRANSPARENT");
  if (::setsockopt(s, SOL_IP, IP_RECVORIGDSTADDR, &on, sizeof on) < 0) return os_error("IP_RECVORIGDSTADDR");
  // A burst of first datagrams waits here while associations open.
  (void)set_receive_buffer(s, 4 << 20);
  return ok();
}

result<udp_received> receive_udp(native_socket s, uint8_t* buf, size_t cap) {
  sockaddr_storage from{};
  alignas(cmsghdr) char ctrl[256];
  iovec iov{buf, cap};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  ssize_t n = ::recvmsg(s, &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_error("would_block", "no datagram");
    return os_error("recvmsg");
  }
  udp_received r;
  r.len = static_cast<size_t>(n);
  r.source = from_sockaddr(from);
  bool found = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR) {
      sockaddr_storage ss{};
      std::memcpy(&ss, CMSG_DATA(c), sizeof(sockaddr_in));
      r.original_dst = from_sockaddr(ss);
      found = true;
    }
  }
  if (!found) return make_error("no_origdst", "datagram without its original destination");
  return r;
}

namespace {

// A raw socket delivers a fabricated IPv4+UDP packet, spoofed from the
// original destination, to the app's (possibly connected) socket.
class raw_delivery final : public udp_delivery {
 public:
  status open() {
    fd_.reset(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    if (!fd_) return os_error("raw socket");
    // Not own (0x7): its packets are not tracked either, see mark::own_reply.
    return set_mark(fd_.get(), filter::mark::own_reply);
  }
  status deliver(const endpoint& from, const endpoint& to, const uint8_t* payload, size_t len) override {
    if (from.k != endpoint::kind::v4 || to.k != endpoint::kind::v4)
      return make_error("socket", "UDP replies are delivered over IPv4 only");
    packet::ipv4_addr src{from.ip[0], from.ip[1], from.ip[2], from.ip[3]};
    packet::ipv4_addr dst{to.ip[0], to.ip[1], to.ip[2], to.ip[3]};
    auto pkt = packet::make_udp_v4(src, from.port, dst, to.port, payload, len);
    if (pkt.empty()) return make_error("socket", "a UDP reply too large to deliver");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    std::memcpy(&sa.sin_addr, to.ip.data(), 4);
    if (::sendto(fd_.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
      return os_error("raw send");
    return ok();
  }

 private:
  unique_fd fd_;
};

}  // namespace

result<std::unique_ptr<udp_delivery>> open_udp_delivery() {
  auto d = std::make_unique<raw_delivery>();
  if (auto st = d->open(); !st) return st.err();
  return std::unique_ptr<udp_delivery>(std::move(d));
}

}  // namespace drover::platform
