// The pieces of owner lookup that read the live system: this process's own
// descriptor table and the kernel's process events.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/filter.hpp"
#include "platform/flow_owner.hpp"
#include "platform/linux/fd_table_cache.hpp"
#include "platform/linux/proc_events.hpp"

namespace {

using drover::platform::fd_table_cache;
using drover::platform::proc_events;

uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

// Runs `body` in a child whose descriptor table is only 0, 1 and 2 (the
// test runner's own extra descriptors would make it sparse); the child's
// exit code is the number of the first failed expectation, 0 if none.
int in_clean_child(int (*body)()) {
  pid_t child = ::fork();
  if (child == 0) {
    for (int fd = 3; fd < 4096; ++fd) ::close(fd);
    ::_exit(body());
  }
  int st = 0;
  ::waitpid(child, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

TEST(FdTableCache, FindsANewSocketWithoutAListing) {
  EXPECT_EQ(in_clean_child([] {
              fd_table_cache cache;
              uint32_t me = static_cast<uint32_t>(::getpid());
              int a = ::socket(AF_INET, SOCK_STREAM, 0);
              if (!cache.holds(me, inode_of(a), true)) return 1;  // first look: a full listing
              // That look used (and freed) a number of its own; occupy it, as
              // in a process other than ours it would not exist.
              if (::dup(0) < 0) return 6;
              int b = ::socket(AF_INET, SOCK_DGRAM, 0);
              if (!cache.holds(me, inode_of(b), true)) return 2;  // past the end of the last listing
              ::close(a);
              int c = ::socket(AF_INET, SOCK_DGRAM, 0);  // takes a's number: a known socket, read again
              if (!cache.holds(me, inode_of(c), true)) return 3;
              if (!cache.holds(me, inode_of(c), false)) return 4;
              // A file's number reused by a socket: the quick look trusts what
              // it read before, so a miss is followed by a full read.
              int f = ::open("/dev/null", O_RDONLY);
              if (f < 0) return 7;
              (void)cache.holds(me, inode_of(c), false);  // learns f's number as a file
              ::close(f);
              int d = ::socket(AF_INET, SOCK_DGRAM, 0);
              if (d != f) return 9;
              if (cache.holds(me, inode_of(d), true)) return 10;
              if (!cache.holds(me, inode_of(d), false)) return 5;
              return 0;
            }),
            0);
}

TEST(FdTableCache, AFarDescriptorOrAReusedNumberNeedsNoListing) {
  EXPECT_EQ(in_clean_child([] {
              fd_table_cache cache;
              uint32_t me = static_cast<uint32_t>(::getpid());
              if (::dup2(0, 251) != 251) return 1;  // as inherited from a shell
              int a = ::socket(AF_INET, SOCK_STREAM, 0);
              if (!cache.holds(me, inode_of(a), true) || cache.listings() != 1) return 2;  // first look
              if (::dup(0) < 0) return 3;  // the number that look used, taken as another process would have it
              int b = ::socket(AF_INET, SOCK_STREAM, 0);
              if (!cache.holds(me, inode_of(b), true)) return 4;  // in the gap below 251
              ::close(a);
              int c = ::socket(AF_INET, SOCK_STREAM, 0);  // a's number again
              if (c != a) return 5;
              if (!cache.holds(me, inode_of(c), true)) return 6;
              if (cache.listings() != 1) return 7;
              return 0;
            }),
            0);
}

TEST(FdTableCache, ASparseTableIsListedInFull) {
  fd_table_cache cache;
  uint32_t me = static_cast<uint32_t>(::getpid());
  int a = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(cache.holds(me, inode_of(a), true));
  // A socket far past the end, behind many gaps: still found.
  int far = ::fcntl(a, F_DUPFD, 900);
  ::close(a);
  int b = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(::dup2(b, far), far);
  ::close(b);
  EXPECT_TRUE(cache.holds(me, inode_of(far), true) || cache.holds(me, inode_of(far), false));
  EXPECT_TRUE(cache.holds(me, inode_of(far), false));
  ::close(far);
}

TEST(FdTableCache, AGoneProcessHoldsNothing) {
  fd_table_cache cache;
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(cache.holds(static_cast<uint32_t>(child), 1, false));
}

TEST(ProcEvents, ReportsAForkedChildAndItsExec) {
  if (::geteuid() != 0) GTEST_SKIP() << "the proc connector needs root";
  proc_events ev;
  ASSERT_TRUE(ev.open());
  ev.drain();
  pid_t child = ::fork();
  if (child == 0) {
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::waitpid(child, nullptr, 0);
  auto b = ev.drain();
  EXPECT_FALSE(b.lost);
  // The fork and then the exec: both name the child.
  EXPECT_GE(std::count(b.pids.begin(), b.pids.end(), static_cast<uint32_t>(child)), 2);
}

// The first packet of `fd` (bound to 127.0.0.1) to 127.0.0.2:`dport`, as the
// capture would show it (only what the owner lookup reads).
drover::packet::view first_packet(int fd, uint16_t dport, drover::packet::l4_proto proto) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  drover::packet::view v;
  v.version = drover::packet::ip_version::v4;
  v.proto = proto;
  v.src = {127, 0, 0, 1};
  v.dst = {127, 0, 0, 2};
  v.src_port = ntohs(sa.sin_port);
  v.dst_port = dport;
  return v;
}

// A target process that holds none of the test's sockets (forked before
// they are made), killed with the test.
struct idle_target {
  pid_t pid = ::fork();
  idle_target() {
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~idle_target() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  idle_target(const idle_target&) = delete;
  idle_target& operator=(const idle_target&) = delete;
  uint32_t id() const { return static_cast<uint32_t>(pid); }
};

int bound_udp(bool connect_to_9999) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  if (connect_to_9999) {
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(9999);
    peer.sin_addr.s_addr = htonl(0x7f000002);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer), 0);
  }
  return fd;
}

TEST(FlowOwner, FindsAnUnconnectedUdpSocketThatSendsToManyPeers) {
  // WebRTC (Discord voice) sends from one unconnected socket to several
  // peers: the socket has no peer port, and must still be found for each.
  auto owner = drover::platform::make_flow_owner();
  uint32_t me = static_cast<uint32_t>(::getpid());
  int fd = bound_udp(false);
  auto is_target = [](const std::string&) { return false; };
  for (uint16_t dport : {3478, 50000, 443}) {
    auto r = owner->owner(first_packet(fd, dport, drover::packet::l4_proto::udp), {}, {me}, is_target);
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(*r, me) << "to port " << dport;
  }
  ::close(fd);
}

TEST(FlowOwner, FindsAConnectedUdpSocket) {
  auto owner = drover::platform::make_flow_owner();
  uint32_t me = static_cast<uint32_t>(::getpid());
  int fd = bound_udp(true);
  auto r = owner->owner(first_packet(fd, 9999, drover::packet::l4_proto::udp), {}, {me},
                        [](const std::string&) { return false; });
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, me);
  ::close(fd);
}

TEST(FlowOwner, NoSocketWhileTargetsRunIsUnknownNotDirect) {
  // The socket closed before the lookup: whose it was cannot be told, and a
  // target's flow must never be sent direct on a guess.
  auto owner = drover::platform::make_flow_owner();
  uint32_t me = static_cast<uint32_t>(::getpid());
  int fd = bound_udp(false);
  auto v = first_packet(fd, 53, drover::packet::l4_proto::udp);
  ::close(fd);
  auto r = owner->owner(v, {}, {me}, [](const std::string&) { return false; });
  EXPECT_FALSE(r.ok()) << "got pid " << (r.ok() ? *r : 0);
}

TEST(FlowOwner, AnIdleSocketNoTargetHoldsIsNotTakenForTheSender) {
  // A queued packet is charged to the socket that sent it (its send memory)
  // until the verdict. A socket on the packet's port with nothing in flight
  // took the port after the sender closed its own: whose the packet was
  // cannot be told, so it is not "direct". (With the packet really queued,
  // the sender's socket is "not a target": platform_linux_queued_owner.)
  auto owner = drover::platform::make_flow_owner();
  int fd = bound_udp(false);
  // A child that closed its copy is the only target: it does not hold the
  // socket.
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fd);
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  // Until the child has closed it, it holds the socket too.
  char mine[64];
  ssize_t m = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), mine, sizeof mine);
  ASSERT_GT(m, 0);
  auto child_holds = [&] {
    for (int d = 0; d < 64; ++d) {
      char link[64];
      ssize_t n =
          ::readlink(("/proc/" + std::to_string(child) + "/fd/" + std::to_string(d)).c_str(), link, sizeof link);
      if (n == m && std::memcmp(link, mine, static_cast<size_t>(n)) == 0) return true;
    }
    return false;
  };
  for (int i = 0; i < 200 && child_holds(); ++i) ::usleep(10000);
  drover::platform::packet_origin from;  // a process's socket sent it (the queue names its uid)
  from.uid = static_cast<uint32_t>(::geteuid());
  auto r = owner->owner(first_packet(fd, 53, drover::packet::l4_proto::udp), from, {static_cast<uint32_t>(child)},
                        [](const std::string&) { return false; });
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_FALSE(r.ok()) << "got pid " << *r << ": the packet would go direct";
  EXPECT_NE(r.err().message.find("nothing in flight"), std::string::npos) << r.err().message;
  ::close(fd);
}

TEST(FlowOwner, APortNowHeldByDroversOwnSocketIsUnknownNotDirect) {
  // A target sent one datagram and closed its socket; before the queued
  // packet was looked up, a socket of Drover's own (a restart opens many)
  // took the port. Drover's sockets are never queued, so the packet was not
  // theirs: CI saw one such datagram go direct during a restart.
  if (::geteuid() != 0) GTEST_SKIP() << "SO_MARK and reading the mark back need CAP_NET_ADMIN";
  idle_target target;
  ASSERT_GT(target.pid, 0);
  int fd = bound_udp(false);
  uint32_t own = drover::filter::mark::own;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_MARK, &own, sizeof own), 0);
  auto owner = drover::platform::make_flow_owner();
  auto r = owner->owner(first_packet(fd, 53, drover::packet::l4_proto::udp), {}, {target.id()},
                        [](const std::string&) { return false; });
  ASSERT_FALSE(r.ok()) << "got pid " << *r << ": the packet would go direct";
  EXPECT_NE(r.err().message.find("Drover's own"), std::string::npos) << r.err().message;
  ::close(fd);
}

TEST(FlowOwner, APortNowHeldByAnotherUsersSocketIsUnknownNotDirect) {
  // The capture says which user sent the packet; the socket now on its port
  // is another user's: it took the port after the sender closed its socket.
  std::ifstream map("/proc/self/uid_map");
  std::string line;
  std::getline(map, line);
  if (line.find("4294967295") == std::string::npos) GTEST_SKIP() << "not in the initial user namespace";
  idle_target target;
  ASSERT_GT(target.pid, 0);
  auto owner = drover::platform::make_flow_owner();
  uint32_t me = static_cast<uint32_t>(::getpid());
  uint32_t uid = static_cast<uint32_t>(::geteuid());
  int fd = bound_udp(false);
  auto v = first_packet(fd, 53, drover::packet::l4_proto::udp);
  auto nobody = [](const std::string&) { return false; };
  drover::platform::packet_origin same, other;
  same.uid = uid;
  other.uid = uid + 1;
  auto r = owner->owner(v, other, {target.id()}, nobody);
  ASSERT_FALSE(r.ok()) << "got pid " << *r << ": the packet would go direct";
  EXPECT_NE(r.err().message.find("not of the sender"), std::string::npos) << r.err().message;
  // A target's socket is the target's whatever the capture says.
  r = owner->owner(v, same, {me}, nobody);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, me);
  ::close(fd);
}

TEST(FlowOwner, ATargetWhoseDescriptorsCannotBeReadIsUnknownNotDirect) {
  // Another user's process, and we may not read its descriptors (no
  // CAP_SYS_PTRACE): it may hold the socket, so the flow is not direct.
  char link[64];
  if (::readlink("/proc/1/fd/0", link, sizeof link) > 0 || errno != EACCES)
    GTEST_SKIP() << "pid 1's descriptors are readable here (it has no capability we lack)";
  auto owner = drover::platform::make_flow_owner();
  int fd = bound_udp(false);
  auto r = owner->owner(first_packet(fd, 53, drover::packet::l4_proto::udp), {}, {1},
                        [](const std::string&) { return false; });
  EXPECT_FALSE(r.ok()) << "got pid " << (r.ok() ? *r : 0);
  ::close(fd);
}

}  // namespace
