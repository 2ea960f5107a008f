// The owner lookup with the packet really waiting in NFQUEUE, as in the
// engine: a network namespace of this process's own (lo only), one iptables
// rule sending UDP to port 9999 into the queue, Drover's capture reading it,
// and the lookup made from inside the verdict callback. Needs root; nothing
// outside the namespace is touched, and it goes with the process.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/packet.hpp"
#include "platform/flow_owner.hpp"
#include "platform/redirect.hpp"

namespace {

using namespace drover;

constexpr uint16_t queued_port = 9999;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

int udp_bound_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto sa = loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// One queued datagram at a time: the test acts while the packet waits in the
// queue, then lets the lookup answer. A packet the test did not send for
// (none is expected) waits 5 s and is refused unanswered.
class queued_lookup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "a network namespace and NFQUEUE need root";
    if (std::system("command -v iptables ip >/dev/null") != 0) GTEST_SKIP() << "iptables or ip is missing";
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET)";
    ASSERT_EQ(std::system("ip link set lo up"), 0);
    ASSERT_EQ(std::system(("iptables -w -t mangle -A OUTPUT -o lo -p udp --dport " + std::to_string(queued_port) +
                           " -j NFQUEUE --queue-num 0")
                              .c_str()),
              0);
    owner_ = platform::make_flow_owner();
    target_ = ::fork();
    if (target_ == 0) {  // a target that holds none of the sockets below
      ::pause();
      ::_exit(0);
    }
    auto c = platform::open_flow_capture();
    ASSERT_TRUE(c) << c.err().message;
    capture_ = std::move(*c);
    loop_ = std::thread([this] {
      (void)capture_->run([this](const uint8_t* d, size_t n, const platform::packet_origin& from) {
        auto v = packet::parse_headers(d, n);
        if (!v) return verdict::refuse;
        std::unique_lock<std::mutex> lock(m_);
        if (!cv_.wait_for(lock, std::chrono::seconds(5), [this] { return go_; })) return verdict::refuse;
        go_ = false;
        origin_ = from;
        answer_ = owner_->owner(*v, from, {static_cast<uint32_t>(target_)}, [](const std::string&) { return false; });
        cv_.notify_all();
        return verdict::direct;
      });
    });
  }
  void TearDown() override {
    if (capture_) capture_->shutdown();
    if (loop_.joinable()) loop_.join();
    if (target_ > 0) {
      ::kill(target_, SIGKILL);
      ::waitpid(target_, nullptr, 0);
    }
  }

  // Sends one datagram from `fd` into the queue, runs `meanwhile`, then
  // returns what the lookup said.
  template <class F>
  result<uint32_t> send_and_look(int fd, F meanwhile) {
    auto dst = loopback(queued_port);
    EXPECT_EQ(::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 1);
    meanwhile();
    std::unique_lock<std::mutex> lock(m_);
    answer_.reset();
    go_ = true;
    cv_.notify_all();
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [this] { return answer_.has_value(); })) {
      go_ = false;
      return make_error("test", "the datagram never reached the queue");
    }
    return *answer_;
  }

  std::unique_ptr<platform::flow_owner> owner_;  ///< made in the namespace: its sock_diag socket asks there
  std::unique_ptr<platform::flow_capture> capture_;
  std::thread loop_;
  pid_t target_ = -1;
  std::mutex m_;
  std::condition_variable cv_;
  bool go_ = false;
  std::optional<result<uint32_t>> answer_;
  platform::packet_origin origin_;
};

TEST_F(queued_lookup, TheSendersSocketIsFoundAndIsNotATarget) {
  // The positive side of the in-flight rule: the queued packet is charged to
  // its sender, so a non-target's flow still goes direct.
  int fd = udp_bound_to(0);
  ASSERT_GE(fd, 0);
  auto r = send_and_look(fd, [] {});
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, 0u);
  ASSERT_TRUE(origin_.uid.has_value()) << "the queue named no sender uid";
  EXPECT_EQ(*origin_.uid, static_cast<uint32_t>(::geteuid()));
}

TEST_F(queued_lookup, APortTakenAfterTheSenderClosedIsUnknownNotDirect) {
  // What CI saw: a target's one-datagram socket closes while its packet
  // waits; another socket (same user) binds the port before the lookup.
  int fd = udp_bound_to(0);
  ASSERT_GE(fd, 0);
  uint16_t port = port_of(fd);
  int taker = -1;
  auto r = send_and_look(fd, [&] {
    ::close(fd);
    taker = udp_bound_to(port);
  });
  ASSERT_GE(taker, 0) << "could not take port " << port;
  ::close(taker);
  ASSERT_FALSE(r.ok()) << "got pid " << *r << ": the packet would go direct";
  EXPECT_NE(r.err().message.find("nothing in flight"), std::string::npos) << r.err().message;
}

TEST_F(queued_lookup, ASiblingOnASharedPortIsTheSender) {
  // Sockets sharing a port (SO_REUSEPORT: SSDP, DLNA, a service's workers):
  // the kernel's lookup names one by a hash of the addresses, maybe an idle
  // sibling. The one sending is found among them: "not a target", direct.
  constexpr int n = 8;
  int socks[n];
  uint16_t port = 0;
  for (int i = 0; i < n; ++i) {
    socks[i] = ::socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    ASSERT_EQ(::setsockopt(socks[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
    auto sa = loopback(port);
    ASSERT_EQ(::bind(socks[i], reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    port = port_of(socks[i]);
  }
  for (int i = 0; i < n; ++i) {
    auto r = send_and_look(socks[i], [] {});
    EXPECT_TRUE(r.ok() && *r == 0u) << "from socket " << i << " of " << n << ": "
                                    << (r.ok() ? "pid " + std::to_string(*r) : r.err().message);
  }
  for (int fd : socks) ::close(fd);
}

}  // namespace
