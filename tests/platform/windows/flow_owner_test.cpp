// The owner of a packet's source socket from the IP Helper tables, with real
// sockets of this process: TCP connected over loopback, an unconnected UDP
// socket (as WebRTC sends), IPv4 and IPv6, and a port nobody holds.
#include "platform/flow_owner.hpp"

#include <gtest/gtest.h>
#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <cstring>

#include "platform/process_table.hpp"

namespace {

using drover::platform::make_flow_owner;
namespace packet = drover::packet;

struct winsock {
  winsock() {
    WSADATA d;
    WSAStartup(MAKEWORD(2, 2), &d);
  }
  ~winsock() { WSACleanup(); }
};

uint16_t local_port(SOCKET s) {
  sockaddr_storage a{};
  int n = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  return ntohs(a.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(a).sin_port
                                      : reinterpret_cast<sockaddr_in6&>(a).sin6_port);
}

// What the classifier would hold for a packet from `port` on this host.
packet::view packet_from(packet::l4_proto proto, packet::ip_version ver, uint16_t port) {
  packet::view v;
  v.proto = proto;
  v.version = ver;
  v.src_port = port;
  if (ver == packet::ip_version::v4) {
    v.src[0] = 127, v.src[3] = 1;
  } else {
    v.src[15] = 1;  // ::1
  }
  return v;
}

const std::string me = drover::platform::exe_name(GetCurrentProcessId());

// Wine lists the sockets but names no owner (every row's pid is 0).
#define SKIP_IF_NO_PIDS(r)                     \
  if (!(r) && (r).err().code == "pid_unknown") \
  GTEST_SKIP() << "the IP Helper tables name no owning process here (Wine): " << (r).err().message

auto is_me = [](const std::string& name) { return name == me; };
auto nobody = [](const std::string&) { return false; };

TEST(flow_owner, ConnectedTcpIsOurs) {
  winsock ws;
  SOCKET l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(l, 1), 0);
  a.sin_port = htons(local_port(l));
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  auto owner = make_flow_owner();
  auto v = packet_from(packet::l4_proto::tcp, packet::ip_version::v4, local_port(c));
  auto pid = owner->owner(v, {}, {}, is_me);
  SKIP_IF_NO_PIDS(pid);
  ASSERT_TRUE(pid) << pid.err().message;
  EXPECT_EQ(*pid, GetCurrentProcessId());
  EXPECT_EQ(*owner->owner(v, {}, {}, nobody), 0u) << "a socket of a process that is no target";
  EXPECT_EQ(*owner->owner(v, {}, {GetCurrentProcessId()}, nobody), GetCurrentProcessId()) << "a known target";
  closesocket(c);
  closesocket(l);
}

TEST(flow_owner, UnconnectedUdpIsFoundByItsPort) {
  winsock ws;
  for (int family : {AF_INET, AF_INET6}) {
    SOCKET u = socket(family, SOCK_DGRAM, 0);
    ASSERT_NE(u, INVALID_SOCKET);
    sockaddr_storage a{};
    a.ss_family = static_cast<ADDRESS_FAMILY>(family);  // any address, any port
    ASSERT_EQ(bind(u, reinterpret_cast<sockaddr*>(&a), family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)),
              0);
    auto ver = family == AF_INET ? packet::ip_version::v4 : packet::ip_version::v6;
    auto pid = make_flow_owner()->owner(packet_from(packet::l4_proto::udp, ver, local_port(u)), {}, {}, is_me);
    SKIP_IF_NO_PIDS(pid);
    ASSERT_TRUE(pid) << (family == AF_INET ? "v4: " : "v6: ") << pid.err().message;
    EXPECT_EQ(*pid, GetCurrentProcessId()) << family;
    closesocket(u);
  }
}

TEST(flow_owner, APortNobodyHoldsIsNeverDirect) {
  winsock ws;
  SOCKET u = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
  uint16_t port = local_port(u);
  closesocket(u);  // one datagram and close: gone before its owner is asked
  auto pid = make_flow_owner()->owner(packet_from(packet::l4_proto::udp, packet::ip_version::v4, port), {}, {}, nobody);
  ASSERT_FALSE(pid) << "owner " << *pid;
  EXPECT_EQ(pid.err().code, "no_socket");
  EXPECT_NE(pid.err().message.find(std::to_string(port)), std::string::npos) << pid.err().message;
}

}  // namespace
