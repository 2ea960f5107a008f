// NFQUEUE capture: only the first packet of each flow is queued (the rules
// see to that); each gets a verdict with a mark, CONNMARK does the rest.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

#include "core/filter.hpp"
#include "platform/linux/linux_redirect.hpp"
#include "platform/redirect.hpp"

namespace drover::platform {
namespace {

uint32_t mark_of(verdict v) {
  switch (v) {
    case verdict::redirect_tcp:
      return filter::mark::redirect_tcp;
    case verdict::redirect_udp:
      return filter::mark::redirect_udp;
    case verdict::refuse:
      return filter::mark::refuse;
    case verdict::direct:
      return filter::mark::direct;
  }
  return filter::mark::refuse;
}

class nfqueue final : public flow_capture {
 public:
  ~nfqueue() override {
    if (qh_) nfq_destroy_queue(qh_);
    if (h_) nfq_close(h_);
    if (wake_ >= 0) ::close(wake_);
  }

  status open() {
    h_ = nfq_open();
    if (!h_) return make_error("driver_gone", std::string("nfq_open failed: ") + std::strerror(errno));
    // A restart's previous reader may still be letting the queue go (its
    // thread joins after its last classification): retry for a second.
    for (int i = 0; i < 20 && !qh_; ++i) {
      qh_ = nfq_create_queue(h_, capture_queue_num, &nfqueue::on_packet, this);
      if (!qh_) ::usleep(50 * 1000);
    }
    if (!qh_)
      return make_error("driver_gone", "cannot bind NFQUEUE " + std::to_string(capture_queue_num) +
                                           " (another program holds it, or no CAP_NET_ADMIN): " + std::strerror(errno));
    // Headers are all the classifier needs (it parses a cut copy as such):
    // 256 bytes hold IPv4 + TCP with every option, or IPv6 with a few
    // extension headers. A larger first packet (QUIC, a TFO SYN) is cut here.
    if (nfq_set_mode(qh_, NFQNL_COPY_PACKET, 256) < 0) return make_error("driver_gone", "nfq_set_mode failed");
    nfq_set_queue_maxlen(qh_, capture_max_queue_len);
    // Fail closed: when the queue is full the kernel drops (the app retries)
    // rather than letting a target's packet go direct.
    nfq_set_queue_flags(qh_, NFQA_CFG_F_FAIL_OPEN, 0);
    // The sender's uid with each packet: the owner lookup can then tell a
    // socket that took a closed one's port from the sender (packet_origin).
    // Kernels without it just send none.
    nfq_set_queue_flags(qh_, NFQA_CFG_F_UID_GID, NFQA_CFG_F_UID_GID);
    int fd = nfq_fd(h_);
    // A small netlink buffer overflows under bursts of new flows.
    nfnl_rcvbufsiz(nfq_nfnlh(h_), static_cast<unsigned>(capture_receive_buffer));
    int on = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0) return make_error("driver_gone", "eventfd failed");
    return ok();
  }

  status run(const decide_fn& classify) override {
    classify_ = &classify;
    // `classify` dies with this call, but the queue outlives it: tearing the
    // queue down (nfq_destroy_queue) still hands pending packets to
    // on_packet, which then refuses them instead of calling a dead function.
    struct forget {
      const decide_fn*& f;
      ~forget() { f = nullptr; }
    } guard{classify_};
    int fd = nfq_fd(h_);
    alignas(8) static thread_local char buf[256 * 1024];
    while (true) {
      pollfd p[2] = {{fd, POLLIN, 0}, {wake_, POLLIN, 0}};
      int r = ::poll(p, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        return make_error("driver_lost", std::string("poll failed: ") + std::strerror(errno));
      }
      if (p[1].revents) return ok();
      if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
        return make_error("driver_lost", "the NFQUEUE socket was closed under us");
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        if (errno == ENOBUFS) continue;  // lost packets are re-sent by their apps
        return make_error("driver_lost", std::string("NFQUEUE receive failed: ") + std::strerror(errno));
      }
      nfq_handle_packet(h_, buf, static_cast<int>(n));
    }
  }

  void shutdown() override {
    uint64_t one = 1;
    if (wake_ >= 0) (void)!::write(wake_, &one, sizeof one);
  }

 private:
  static int on_packet(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void* self_ptr) {
    auto* self = static_cast<nfqueue*>(self_ptr);
    auto* hdr = nfq_get_msg_packet_hdr(nfa);
    if (!hdr) return 0;
    uint32_t id = ntohl(hdr->packet_id);
    unsigned char* data = nullptr;
    int len = nfq_get_payload(nfa, &data);
    packet_origin from;
    uint32_t uid = 0;
    if (nfq_get_uid(nfa, &uid) != 0) from.uid = uid;
    verdict v = len > 0 && self->classify_ ? (*self->classify_)(data, static_cast<size_t>(len), from) : verdict::refuse;
    return nfq_set_verdict2(qh, id, NF_ACCEPT, mark_of(v), 0, nullptr);
  }

  nfq_handle* h_ = nullptr;
  nfq_q_handle* qh_ = nullptr;
  int wake_ = -1;
  const decide_fn* classify_ = nullptr;
};

}  // namespace

result<std::unique_ptr<flow_capture>> open_flow_capture() {
  auto q = std::make_unique<nfqueue>();
  auto st = q->open();
  if (!st) return st.err();
  return std::unique_ptr<flow_capture>(std::move(q));
}

}  // namespace drover::platform
