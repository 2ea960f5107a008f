#include "platform/windows/windivert_capture.hpp"

#include <windows.h>
#include <winsock2.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/divert_rewrite.hpp"
#include "core/windivert_errors.hpp"
#include "platform/windows/capture_state.hpp"
#include "platform/windows/win_handle.hpp"
#include "platform/windows/windivert_loader.hpp"

namespace drover::platform::win {
namespace {

using windivert::address;
constexpr unsigned batch = windivert::batch_max;
constexpr size_t recv_buffer = 1 << 21;  // 255 full-size packets and more

error open_failed(DWORD code) { return make_error("driver_gone", windivert_open_error(code, error_text(code))); }

// A packet's own length from its IP header (batches are packed back to back).
size_t packet_length(const uint8_t* p, size_t avail) {
  if (avail < 1) return 0;
  size_t n = 0;
  if ((p[0] >> 4) == 4 && avail >= 20) n = static_cast<size_t>(p[2] << 8 | p[3]);
  if ((p[0] >> 4) == 6 && avail >= 40) n = 40 + static_cast<size_t>(p[4] << 8 | p[5]);
  return n <= avail ? n : 0;
}

socket_key key_of(const packet::view& v, uint16_t port) {
  return {v.version, v.proto == packet::l4_proto::udp ? flow_proto::udp : flow_proto::tcp, port};
}

// Sent inbound: the address of the captured packet, turned around, with
// the checksums we computed declared valid.
address inbound(address a) {
  a.outbound = 0;
  a.ip_checksum = a.tcp_checksum = a.udp_checksum = 1;
  return a;
}

// One open WinDivert handle, closed with its library.
struct divert_handle {
  std::shared_ptr<windivert_library> lib;
  void* h = nullptr;
  ~divert_handle() {
    if (h) lib->close(h);
  }
};

result<std::shared_ptr<divert_handle>> open_handle(const std::shared_ptr<windivert_library>& lib, const std::string& f,
                                                   windivert::layer l, uint64_t flags) {
  void* h = lib->open(f.c_str(), l, 0, flags);
  if (h == INVALID_HANDLE_VALUE || h == nullptr) return open_failed(::GetLastError());
  auto out = std::make_shared<divert_handle>();
  out->lib = lib;
  out->h = h;
  return out;
}

class windivert_capture final : public flow_capture {
 public:
  windivert_capture(std::shared_ptr<windivert_library> lib, std::shared_ptr<divert_handle> net,
                    std::shared_ptr<divert_handle> sock, uint64_t generation, SOCKET forward)
      : lib_(std::move(lib)), net_(std::move(net)), sock_(std::move(sock)), generation_(generation), forward_(forward) {
    publish_injector();
    sock_thread_ = std::thread([this] { socket_events(); });
  }
  ~windivert_capture() override {
    shutdown();
    if (sock_thread_.joinable()) sock_thread_.join();
    shared_capture().set_injector(nullptr);
    ::closesocket(forward_);
  }

  status run(const decide_fn& decide) override {
    std::vector<uint8_t> in(recv_buffer), out(recv_buffer);
    std::vector<address> addrs(batch), out_addrs(batch);
    while (!stopping_) {
      if (auto st = follow_filter(); !st) return st;
      UINT got = 0, addr_len = static_cast<UINT>(sizeof(address) * batch);
      if (!lib_->recv_ex(net_->h, in.data(), static_cast<UINT>(in.size()), &got, 0, addrs.data(), &addr_len, nullptr)) {
        DWORD e = ::GetLastError();
        if (stopping_) return ok();
        if (e == ERROR_INSUFFICIENT_BUFFER) continue;
        // ERROR_NO_DATA without our shutdown: someone else ended the handle,
        // and its filter with it. Reported like any loss, so E3 reopens it
        // (a capture that ended quietly would let targets go direct).
        return make_error("driver_lost", "WinDivert stopped delivering packets: " + error_text(e));
      }
      size_t n = addr_len / sizeof(address), off = 0, out_len = 0, out_n = 0;
      for (size_t i = 0; i < n && off < got; ++i) {
        size_t len = packet_length(in.data() + off, got - off);
        if (len == 0) break;
        handle(in.data() + off, len, addrs[i], decide, out, out_len, out_addrs, out_n);
        off += len;
      }
      if (out_n > 0 && !lib_->send_ex(net_->h, out.data(), static_cast<UINT>(out_len), nullptr, 0, out_addrs.data(),
                                      static_cast<UINT>(out_n * sizeof(address)), nullptr)) {
        DWORD e = ::GetLastError();
        if (e == ERROR_INVALID_HANDLE) return make_error("driver_lost", "WinDivert lost its handle: " + error_text(e));
      }
    }
    return ok();
  }

  void shutdown() override {
    stopping_ = true;
    std::lock_guard<std::mutex> lock(handle_mutex_);
    lib_->shutdown(net_->h, windivert::shutdown_both);
    lib_->shutdown(sock_->h, windivert::shutdown_both);
  }

 private:
  // A new redirect (the proxy moved): the new handle opens before the old
  // one closes, so no packet goes uncaptured in between.
  status follow_filter() {
    auto [filter, gen] = shared_capture().filter();
    if (gen == generation_) return ok();
    auto h = open_handle(lib_, filter, windivert::layer_network, 0);
    if (!h) return h.err();
    {
      std::lock_guard<std::mutex> lock(handle_mutex_);  // shutdown() reads net_ from another thread
      net_ = *h;
    }
    generation_ = gen;
    publish_injector();
    return ok();
  }

  void publish_injector() {
    auto i = std::make_shared<injector>();
    i->lib = lib_;
    i->handle = net_->h;
    i->keep = net_;  // a reply being injected keeps a replaced handle open
    shared_capture().set_injector(std::move(i));
  }

  void handle(uint8_t* p, size_t len, const address& a, const decide_fn& decide, std::vector<uint8_t>& out,
              size_t& out_len, std::vector<address>& out_addrs, size_t& out_n) {
    auto& st = shared_capture();
    const uint16_t listener = st.tcp_listener();
    auto c = divert::classify(p, len, st.ports, listener);
    // A SYN opens a new connection: whatever its port decided before was
    // another socket's.
    bool syn =
        c.v.proto == packet::l4_proto::tcp && (c.v.tcp_flags & (packet::tcp_syn | packet::tcp_ack)) == packet::tcp_syn;
    if (c.r == divert::route::decide || (syn && c.r != divert::route::from_listener && c.r != divert::route::drop)) {
      verdict v = decide(p, len, {});  // the NETWORK layer names no sender
      auto k = key_of(c.v, c.v.src_port);
      st.ports.set(k.family, k.proto, k.port, {v, c.v.dst_port});
      if (v == verdict::redirect_tcp || v == verdict::redirect_udp)
        st.put_nat(k, {divert::destination_of(c.v), a.network});
      c = divert::classify(p, len, st.ports, listener);
    }
    auto emit = [&](const uint8_t* data, size_t n, const address& addr) {
      if (out_len + n > out.size() || out_n >= out_addrs.size()) return;
      std::memcpy(out.data() + out_len, data, n);
      out_addrs[out_n++] = addr;
      out_len += n;
    };
    switch (c.r) {
      case divert::route::reinject:
        return emit(p, len, a);
      case divert::route::to_listener:
        if (divert::reflect_to_listener(p, len, listener)) emit(p, len, inbound(a));
        return;
      case divert::route::from_listener:
        if (divert::reflect_from_listener(p, len, c.orig_port)) emit(p, len, inbound(a));
        return;
      case divert::route::take_udp:
        return forward_udp(c.v, p);
      case divert::route::refuse: {
        uint8_t rst[divert::rst_max_len];
        if (c.v.proto != packet::l4_proto::tcp) return;  // UDP: dropped
        if (auto n = divert::make_rst(p, len, rst, sizeof rst)) emit(rst, *n, inbound(a));
        return;
      }
      case divert::route::decide:
      case divert::route::drop:
        return;
    }
  }

  // The datagram goes to the UDP listener over loopback, behind the header
  // receive_udp reads: the app's socket and where it sent it.
  void forward_udp(const packet::view& v, const uint8_t* p) {
    uint16_t port = shared_capture().udp_listener();
    if (port == 0 || v.payload_len > 65507 - forward_header_len) return;
    auto& d = forward_buf_;  // the loop's own: no allocation per datagram
    d.resize(forward_header_len + v.payload_len);
    write_forward_header(v, d.data());
    std::memcpy(d.data() + forward_header_len, p + v.payload_offset, v.payload_len);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    ::sendto(forward_, reinterpret_cast<const char*>(d.data()), static_cast<int>(d.size()), 0,
             reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  // Owners as sockets connect or bind, and forgetting them as they close
  // (a port's next socket is decided afresh).
  void socket_events() {
    std::vector<address> events(batch);
    while (!stopping_) {
      UINT addr_len = static_cast<UINT>(sizeof(address) * batch);
      if (!lib_->recv_ex(sock_->h, nullptr, 0, nullptr, 0, events.data(), &addr_len, nullptr)) {
        if (stopping_ || ::GetLastError() == ERROR_NO_DATA) return;
        ::Sleep(10);
        continue;
      }
      for (size_t i = 0; i < addr_len / sizeof(address); ++i) {
        const auto& e = events[i];
        if (e.socket.protocol != 6 && e.socket.protocol != 17) continue;
        socket_key k{e.ipv6 ? packet::ip_version::v6 : packet::ip_version::v4,
                     e.socket.protocol == 17 ? flow_proto::udp : flow_proto::tcp, e.socket.local_port};
        if (e.event == windivert::event_socket_close)
          shared_capture().forget(k);
        else if (e.event == windivert::event_socket_connect || e.event == windivert::event_socket_bind)
          shared_capture().put_owner(k, e.socket.process_id);
      }
    }
  }

  std::shared_ptr<windivert_library> lib_;
  std::shared_ptr<divert_handle> net_, sock_;
  uint64_t generation_;
  SOCKET forward_;
  std::atomic<bool> stopping_{false};
  std::mutex handle_mutex_;
  std::vector<uint8_t> forward_buf_ = std::vector<uint8_t>(65536);  // the loop thread's
  std::thread sock_thread_;
};

}  // namespace

result<std::unique_ptr<flow_capture>> open_windivert_capture(std::shared_ptr<windivert_library> lib) {
  auto [filter, gen] = shared_capture().filter();
  if (filter.empty()) return make_error("driver_gone", "packet capture opened before its redirect was installed");
  spdlog::info("WinDivert filter (socket layer): {}", socket_layer_filter);
  auto net = open_handle(lib, filter, windivert::layer_network, 0);
  if (!net) return net.err();
  auto sock =
      open_handle(lib, "tcp or udp", windivert::layer_socket, windivert::flag_sniff | windivert::flag_recv_only);
  if (!sock) return sock.err();
  WSADATA wsa;
  ::WSAStartup(MAKEWORD(2, 2), &wsa);  // counted: balanced by nothing, as Asio's own
  SOCKET fwd = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int alen = sizeof any;
  if (fwd == INVALID_SOCKET || ::bind(fwd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 ||
      ::getsockname(fwd, reinterpret_cast<sockaddr*>(&any), &alen) != 0) {
    if (fwd != INVALID_SOCKET) ::closesocket(fwd);
    return make_error("driver_gone", "cannot open the UDP forwarding socket: " + error_text(::WSAGetLastError()));
  }
  shared_capture().forward_port = ntohs(any.sin_port);
  return std::unique_ptr<flow_capture>(std::make_unique<windivert_capture>(lib, *net, *sock, gen, fwd));
}

}  // namespace drover::platform::win
