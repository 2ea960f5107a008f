// Packet -> socket inode (SOCK_DIAG_BY_FAMILY) -> pid (/proc/PID/fd).
// Decided per flow, from the live socket: no (ip, port) cache that a reused
// port could fool.
#include "platform/flow_owner.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "core/filter.hpp"
#include "platform/linux/fd_table_cache.hpp"
#include "platform/linux/proc_events.hpp"
#include "platform/process_table.hpp"

namespace drover::platform {
namespace {

constexpr uint32_t tcp_syn_sent = 2;

class netlink_socket {
 public:
  netlink_socket() { fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG); }
  ~netlink_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  netlink_socket(const netlink_socket&) = delete;
  netlink_socket& operator=(const netlink_socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

struct query {
  int family;
  uint8_t proto;
  bool dump;
  inet_diag_sockid id;
};

// Fills a sockid from the packet: local side = packet source. An IPv4 packet
// may belong to a dual-stack AF_INET6 socket: then use v4-mapped addresses.
inet_diag_sockid sockid(const packet::view& v, int family) {
  inet_diag_sockid id{};
  id.idiag_sport = htons(v.src_port);
  id.idiag_dport = htons(v.dst_port);
  id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (v.version == packet::ip_version::v4 && family == AF_INET) {
    std::memcpy(id.idiag_src, v.src.data(), 4);
    std::memcpy(id.idiag_dst, v.dst.data(), 4);
  } else if (v.version == packet::ip_version::v4) {
    uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(src + 12, v.src.data(), 4);
    std::memcpy(dst + 12, v.dst.data(), 4);
    std::memcpy(id.idiag_src, src, 16);
    std::memcpy(id.idiag_dst, dst, 16);
  } else {
    std::memcpy(id.idiag_src, v.src.data(), 16);
    std::memcpy(id.idiag_dst, v.dst.data(), 16);
  }
  return id;
}

bool zero(const uint32_t* a, int family) {
  int n = family == AF_INET ? 1 : 4;
  for (int i = 0; i < n; ++i)
    if (a[i]) return false;
  return true;
}

// A dumped UDP socket matches if it is bound to the port and either
// unconnected or connected to the packet's destination.
bool matches(const inet_diag_sockid& want, const inet_diag_sockid& got, int family) {
  size_t n = family == AF_INET ? 4 : 16;
  if (got.idiag_sport != want.idiag_sport) return false;
  if (!zero(got.idiag_src, family) && std::memcmp(got.idiag_src, want.idiag_src, n) != 0) return false;
  if (got.idiag_dport == 0) return true;
  return got.idiag_dport == want.idiag_dport && std::memcmp(got.idiag_dst, want.idiag_dst, n) == 0;
}

// A socket the kernel listed: its inode (0: none matched), whether it is
// one of Drover's own (SO_MARK, listed to a CAP_NET_ADMIN asker), its user,
// its send memory.
struct found_socket {
  uint32_t inode = 0;
  bool own = false;
  uint32_t uid = 0;
  /// Bytes of its packets alive below it (sk_wmem_alloc), if listed: a
  /// packet waiting in our queue is still charged to the socket that sent it.
  std::optional<uint32_t> in_flight;
};

found_socket found_of(const inet_diag_msg* m, const nlmsghdr* h) {
  found_socket f{m->idiag_inode, false, m->idiag_uid, std::nullopt};
  auto* a = reinterpret_cast<const rtattr*>(m + 1);
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof *m));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == INET_DIAG_MARK && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
      uint32_t mark;
      std::memcpy(&mark, RTA_DATA(a), sizeof mark);
      f.own = mark == filter::mark::own || mark == filter::mark::own_reply;
    } else if (a->rta_type == INET_DIAG_SKMEMINFO && RTA_PAYLOAD(a) > SK_MEMINFO_WMEM_ALLOC * sizeof(uint32_t)) {
      // Older kernels list fewer values than our headers know: only ours counts.
      uint32_t wmem;
      std::memcpy(&wmem, static_cast<const char*>(RTA_DATA(a)) + SK_MEMINFO_WMEM_ALLOC * sizeof(uint32_t), sizeof wmem);
      f.in_flight = wmem;
    }
  }
  return f;
}

// The socket asked for; a dump's first match, and every match into `all`.
found_socket lookup_inode(int fd, const query& q, std::vector<found_socket>* all = nullptr) {
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 r;
  } req{};
  req.nlh.nlmsg_len = sizeof req;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | (q.dump ? NLM_F_DUMP : 0);
  req.r.sdiag_family = static_cast<uint8_t>(q.family);
  req.r.sdiag_protocol = q.proto;
  req.r.idiag_states = q.proto == IPPROTO_TCP && !q.dump ? ~0u : (q.proto == IPPROTO_TCP ? 1u << tcp_syn_sent : ~0u);
  req.r.id = q.id;
  req.r.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
  if (q.dump) {
    // The kernel skips dumped sockets whose peer port differs from a non-zero
    // idiag_dport: an unconnected UDP socket (peer port 0; WebRTC sends so)
    // would never be listed. Filter by our port only; matches() does the rest.
    req.r.id.idiag_dport = 0;
  } else if (q.proto == IPPROTO_UDP) {
    // A UDP lookup is the kernel's receive lookup: source = the remote side.
    // It finds unconnected and connected sockets alike.
    std::swap(req.r.id.idiag_sport, req.r.id.idiag_dport);
    for (int i = 0; i < 4; ++i) std::swap(req.r.id.idiag_src[i], req.r.id.idiag_dst[i]);
  }
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  if (::sendto(fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&nl), sizeof nl) < 0) return {};
  alignas(nlmsghdr) static thread_local char buf[32768];
  found_socket found;
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return found;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return found;
      auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
      // A non-dump reply is the socket asked for (an error reply ends above).
      if (!q.dump) return found_of(m, h);
      if (!matches(q.id, m->id, q.family)) continue;
      auto f = found_of(m, h);
      if (all) all->push_back(f);
      if (!found.inode) found = f;
    }
  }
}

// NFQUEUE names the sender's uid as seen from the initial user namespace,
// sock_diag as seen from ours: comparable only when our uid map is the
// identity (the initial namespace, or one mapped 1:1 over all of it).
bool uid_map_is_identity() {
  std::ifstream f("/proc/self/uid_map");
  uint64_t inside = 1, outside = 1, count = 0;
  if (!(f >> inside >> outside >> count)) return false;
  std::string more;
  return inside == 0 && outside == 0 && count == 4294967295u && !(f >> more);
}

class linux_flow_owner final : public flow_owner {
 public:
  linux_flow_owner() : uids_comparable_(uid_map_is_identity()) { events_.open(); }
  bool reports_new_processes() const override { return events_.is_open(); }
  result<uint32_t> owner(const packet::view& v, const packet_origin& from, const std::vector<uint32_t>& candidates,
                         const std::function<bool(const std::string&)>& is_target) override {
    if (nl_.fd() < 0) return make_error("owner", "cannot open a sock_diag socket");
    // No target process at all, none known and none started since: nothing
    // to look up (the common case for a user's other traffic most of the day).
    if (events_.is_open() && candidates.empty()) {
      take_news(is_target);
      if (newcomers_.empty()) return uint32_t{0};
    }
    auto sock = socket_of(v);
    uint32_t inode = sock.inode;
    if (!inode) {
      // No socket (closed already, or never visible here): whose it was
      // cannot be told. Only when no target runs at all is it surely not one.
      if (candidates.empty()) {
        take_news(is_target);
        if (newcomers_.empty()) return uint32_t{0};
      }
      return make_error("owner_unknown", "no socket sent it (closed before it could be looked up?)");
    }
    denied_ = 0;
    if (uint32_t pid = target_holding(inode, candidates, is_target)) return pid;
    // A target whose sockets we may not read may hold this one.
    if (denied_) return unreadable_target();
    // No target holds it, as far as the tables showed.
    if (candidates.empty() && newcomers_.empty()) return uint32_t{0};  // none runs at all
    // Targets run: "not a target" (direct) only if this socket can be the
    // sender. Once a sender closes its socket (one datagram, then close),
    // another may take the port before the queued packet is looked up.
    if (auto why = not_the_sender(sock, from)) {
      // A port several sockets share (SO_REUSEPORT, SO_REUSEADDR): the
      // lookup named one of them, and the sender may be a sibling.
      bool sibling = false;
      for (auto& s : sock.own ? std::vector<found_socket>{} : sockets_on_port(v)) {
        if (s.inode == inode || not_the_sender(s, from)) continue;
        if (uint32_t pid = target_holding(s.inode, candidates, is_target)) return pid;
        sibling = true;
      }
      if (denied_) return unreadable_target();
      if (!sibling) return make_error("owner_unknown", *why);
    }
    // A socket its owner closed while we looked (the queued packet still
    // names it) may have been a target's: that is not "direct" either.
    if (socket_of(v).inode != inode)
      return make_error("owner_unknown", "the socket was closed while its owner was looked up");
    return uint32_t{0};
  }

 private:
  // The target process holding `inode`, 0 if none: first what the known
  // targets opened since the last look (a target's new flow is there), then
  // all of it for those only partly read, then targets started since.
  uint32_t target_holding(uint32_t inode, const std::vector<uint32_t>& candidates,
                          const std::function<bool(const std::string&)>& is_target) {
    std::vector<uint32_t> unsure;
    for (uint32_t pid : candidates) {
      auto r = fds_.find(pid, inode, true);
      if (r == fd_table_cache::look::found) return pid;
      if (r == fd_table_cache::look::unsure) unsure.push_back(pid);
      if (r == fd_table_cache::look::denied) denied_ = pid;
    }
    for (uint32_t pid : unsure) {
      auto r = fds_.find(pid, inode, false);
      if (r == fd_table_cache::look::found) return pid;
      if (r == fd_table_cache::look::denied) denied_ = pid;
    }
    return newcomer_owning(inode, candidates, is_target);
  }

  error unreadable_target() const {
    return error{"owner_unknown", "cannot read /proc/" + std::to_string(denied_) +
                                      "/fd of a target (permission denied: drover needs CAP_SYS_PTRACE)"};
  }

  // Every socket bound to the packet's port that could send it.
  std::vector<found_socket> sockets_on_port(const packet::view& v) {
    std::vector<found_socket> all;
    uint8_t proto = v.proto == packet::l4_proto::tcp ? IPPROTO_TCP : IPPROTO_UDP;
    for (int fam : {AF_INET, AF_INET6}) {
      if (fam == AF_INET && v.version != packet::ip_version::v4) continue;
      lookup_inode(nl_.fd(), {fam, proto, true, sockid(v, fam)}, &all);
    }
    return all;
  }

  // Why `s`, the socket now on the packet's port, did not send it; nothing
  // if it may have.
  std::optional<std::string> not_the_sender(const found_socket& s, const packet_origin& from) const {
    // Drover's own sockets are never queued (their mark skips the queue); a
    // restart opens many.
    if (s.own) return "its port now belongs to a socket of Drover's own; the sender closed its socket";
    // A socket of another user than the sender's (a daemon's query took the
    // port a target's one-datagram socket had just freed).
    if (from.uid && uids_comparable_ && s.uid != *from.uid)
      return "its port now belongs to a socket of uid " + std::to_string(s.uid) + ", not of the sender (uid " +
             std::to_string(*from.uid) + ")";
    // Nothing of this socket's is in flight: the packet waiting in the queue
    // is charged to its sender, so the sender was another socket. Only for
    // a packet a process's socket sent (the queue named its uid): the
    // kernel's own (WireGuard's handshakes, VXLAN) are charged to none.
    if (from.uid && s.in_flight && *s.in_flight == 0)
      return "its port now belongs to a socket with nothing in flight; the sender closed its socket";
    return std::nullopt;
  }

  // The socket that sent `v` (inode 0 if none is found).
  found_socket socket_of(const packet::view& v) {
    uint8_t proto = v.proto == packet::l4_proto::tcp ? IPPROTO_TCP : IPPROTO_UDP;
    for (int fam : {AF_INET, AF_INET6}) {
      // IPv4 may come from an AF_INET socket or a dual-stack AF_INET6 one.
      if (fam == AF_INET && v.version != packet::ip_version::v4) continue;
      // Exact lookup first (TCP: works in SYN_SENT; UDP: the receive lookup,
      // which also finds unconnected sockets), then a dump by our port.
      auto s = lookup_inode(nl_.fd(), {fam, proto, false, sockid(v, fam)});
      if (!s.inode) s = lookup_inode(nl_.fd(), {fam, proto, true, sockid(v, fam)});
      if (s.inode) return s;
    }
    return {};
  }

  // Not one of the known targets: maybe a target that started after the last
  // scan (new PID, connecting at once). Only processes with a target's name
  // are searched: those the kernel reported since the last look (kept until
  // the scan lists them or they exit), or, without reports, all of them.
  uint32_t newcomer_owning(uint32_t inode, const std::vector<uint32_t>& candidates,
                           const std::function<bool(const std::string&)>& is_target) {
    take_news(is_target);
    uint32_t found = 0;
    newcomers_.erase(std::remove_if(newcomers_.begin(), newcomers_.end(),
                                    [&](uint32_t pid) {
                                      bool listed =
                                          std::find(candidates.begin(), candidates.end(), pid) != candidates.end();
                                      if (listed) return true;
                                      if (found) return false;  // looked at next time
                                      auto r = fds_.find(pid, inode, false);
                                      if (r == fd_table_cache::look::found) found = pid;
                                      if (r == fd_table_cache::look::denied) denied_ = pid;
                                      return r == fd_table_cache::look::gone;
                                    }),
                     newcomers_.end());
    auto keep = newcomers_;
    keep.insert(keep.end(), candidates.begin(), candidates.end());
    fds_.retain(keep);
    return found;
  }
  // Adds the target processes started (or exec'd) since the last look.
  void take_news(const std::function<bool(const std::string&)>& is_target) {
    // Reports cover only what started after we subscribed: the first look
    // lists everything (a target running before the engine started).
    bool lost = !events_.is_open() || !seeded_;
    seeded_ = true;
    if (!lost) {
      auto b = events_.drain();
      lost = b.lost;
      for (uint32_t pid : b.pids)
        if (!known(pid) && is_target(exe_name(pid))) newcomers_.push_back(pid);
    }
    if (lost)
      for (auto& p : list_processes())
        if (!known(p.pid) && is_target(p.exe)) newcomers_.push_back(p.pid);
  }
  bool known(uint32_t pid) const { return std::find(newcomers_.begin(), newcomers_.end(), pid) != newcomers_.end(); }

  netlink_socket nl_;
  proc_events events_;
  std::vector<uint32_t> newcomers_;
  bool seeded_ = false;
  bool uids_comparable_;
  uint32_t denied_ = 0;  ///< this lookup met a target whose descriptors we may not read
  fd_table_cache fds_;
};

}  // namespace

std::unique_ptr<flow_owner> make_flow_owner() { return std::make_unique<linux_flow_owner>(); }

}  // namespace drover::platform
