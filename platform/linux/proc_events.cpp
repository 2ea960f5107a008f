#include "platform/linux/proc_events.hpp"

#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace drover::platform {
namespace {

int connector_socket() { return ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR); }

// Joins the proc connector's multicast group; false if it is not there.
bool subscribe(int fd) {
  // Bursts of process starts (a build) must not overflow between two looks.
  int size = 4 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = CN_IDX_PROC;
  // nlmsghdr, cn_msg, then the operation; cn_msg ends in a flexible array,
  // so the message is laid out by hand.
  alignas(nlmsghdr) char msg[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(msg);
  nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = static_cast<uint32_t>(::getpid());
  auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(proc_cn_mcast_op);
  proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  std::memcpy(cn->data, &op, sizeof op);
  return ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::send(fd, msg, nl->nlmsg_len, 0) >= 0;
}

int subscribed_socket() {
  int fd = connector_socket();
  if (fd >= 0 && subscribe(fd)) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// The connector exists only in the initial network namespace. An engine
// started inside another (a container, `ip netns exec`, the tests) makes its
// socket there: pid 1's namespace, or else its parent's (a launcher runs from
// the host's). A short-lived thread does it, so no engine thread ever
// changes namespace; the socket keeps the namespace it was made in.
int subscribed_socket_anywhere() {
  int fd = subscribed_socket();
  if (fd >= 0) return fd;
  for (std::string path : {std::string("/proc/1/ns/net"), "/proc/" + std::to_string(::getppid()) + "/ns/net"}) {
    std::thread([&fd, &path] {
      int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0) return;
      if (::setns(ns, CLONE_NEWNET) == 0) fd = subscribed_socket();
      ::close(ns);
    }).join();
    if (fd >= 0) return fd;
  }
  return -1;
}

}  // namespace

proc_events::~proc_events() {
  if (fd_ >= 0) ::close(fd_);
}

bool proc_events::open() {
  fd_ = subscribed_socket_anywhere();
  return fd_ >= 0;
}

proc_events::batch proc_events::drain() {
  batch b;
  alignas(nlmsghdr) char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        b.lost = true;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) b.lost = true;  // a broken subscription: trust nothing
      return b;
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP) continue;
      auto* cn = static_cast<cn_msg*>(NLMSG_DATA(h));
      if (cn->id.idx != CN_IDX_PROC || cn->len < sizeof(proc_event)) continue;
      auto* ev = reinterpret_cast<proc_event*>(cn->data);
      if (ev->what == proc_event::PROC_EVENT_FORK && ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
        b.pids.push_back(static_cast<uint32_t>(ev->event_data.fork.child_tgid));
      else if (ev->what == proc_event::PROC_EVENT_EXEC)
        b.pids.push_back(static_cast<uint32_t>(ev->event_data.exec.process_tgid));
    }
  }
}

}  // namespace drover::platform
