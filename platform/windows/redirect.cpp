// The Windows redirect on WinDivert. WinDivert.dll is loaded from
// drover.exe's own directory and checked (windivert_loader). "Installing"
// the redirect is building the NETWORK-layer filter and having the DLL's own
// compiler accept it: the filter lives in the capture's handle, which
// follows a new one without a gap (windivert_capture). TCP reaches the
// listener by the reflect technique, so the listener's peer is the original
// destination's address with the app's port, which the NAT table maps back;
// UDP the capture takes reaches the UDP listener over loopback.
#include "platform/redirect.hpp"

#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "core/divert_rewrite.hpp"
#include "core/filter.hpp"
#include "platform/process_table.hpp"
#include "platform/windows/capture_state.hpp"
#include "platform/windows/win_handle.hpp"
#include "platform/windows/windivert_capture.hpp"
#include "platform/windows/windivert_loader.hpp"

namespace drover::platform {
namespace {

using win::shared_capture;

std::string exe_dir() {
  auto exe = own_executable_path();
  auto slash = exe.find_last_of("\\/");
  return slash == std::string::npos ? std::string(".") : exe.substr(0, slash);
}

// One library for the process: loaded (and its files checked) on the first
// start, kept while the process runs; a failed load is tried again on the
// next start (the user may have reinstalled meanwhile).
result<std::shared_ptr<win::windivert_library>> library() {
  static std::mutex mutex;
  static std::shared_ptr<win::windivert_library> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded) return loaded;
  auto lib = win::load_windivert(exe_dir(), win::trusted_windivert_files());
  shared_capture().set_diagnostics("", lib ? "loaded from " + exe_dir() + "\\WinDivert.dll" : lib.err().message);
  if (!lib) return lib.err();
  loaded = *lib;
  return loaded;
}

// The filter the NETWORK-layer handle opens with, checked by the DLL's own
// compiler: the error names the position in the logged string.
result<std::string> checked_filter(win::windivert_library& lib, const filter::inputs& in) {
  auto f = filter::windivert(in);
  if (!f) return f.err();
  spdlog::info("WinDivert filter (network layer): {}", *f);
  const char* why = nullptr;
  unsigned pos = 0;
  if (!lib.compile_filter(f->c_str(), windivert::layer_network, nullptr, 0, &why, &pos))
    return make_error("driver_gone", "WinDivert rejected the capture filter at position " + std::to_string(pos) + ": " +
                                         (why ? why : "no reason given") + " (filter: " + *f + ")");
  return f;
}

class windivert_redirector final : public redirector {
 public:
  explicit windivert_redirector(std::shared_ptr<win::windivert_library> lib) : lib_(std::move(lib)) {}
  ~windivert_redirector() override {
    auto& st = shared_capture();
    st.set_filter("");
    st.ports.clear_all();
  }
  // Nothing of it lives outside the capture's handle, which the capture
  // watches itself.
  bool intact() const override { return true; }
  status update(const redirect_plan& plan) override {
    auto f = checked_filter(*lib_, plan.inputs);
    if (!f) return f.err();
    shared_capture().set_listeners(plan.tcp_port, plan.udp_port);
    shared_capture().set_filter(*f);
    return ok();
  }

 private:
  std::shared_ptr<win::windivert_library> lib_;
};

endpoint endpoint_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET6) {
    const auto& s6 = reinterpret_cast<const sockaddr_in6&>(a);
    std::array<uint8_t, 16> ip{};
    std::memcpy(ip.data(), &s6.sin6_addr, 16);
    return endpoint::v6(ip, ntohs(s6.sin6_port));
  }
  const auto& s4 = reinterpret_cast<const sockaddr_in&>(a);
  std::array<uint8_t, 4> ip{};
  std::memcpy(ip.data(), &s4.sin_addr, 4);
  return endpoint::v4(ip, ntohs(s4.sin_port));
}

// Replies to an app's UDP socket, fabricated from the original destination
// and injected inbound through the capture's handle on the interface the
// app's datagrams left by.
class injected_delivery final : public udp_delivery {
 public:
  status deliver(const endpoint& from, const endpoint& to, const uint8_t* payload, size_t len) override {
    auto inj = shared_capture().current_injector();
    if (!inj) return make_error("socket", "no capture running to deliver a UDP reply through");
    std::vector<uint8_t> pkt(len + 48);
    auto n = divert::make_udp_reply(from, to, payload, len, pkt.data(), pkt.size());
    if (!n) return n.err();
    windivert::address a{};
    a.layer = windivert::layer_network;
    a.ipv6 = to.k == endpoint::kind::v6;
    a.ip_checksum = a.tcp_checksum = a.udp_checksum = 1;
    auto family = a.ipv6 ? packet::ip_version::v6 : packet::ip_version::v4;
    if (auto nat = shared_capture().nat({family, flow_proto::udp, to.port})) a.network = nat->iface;
    if (!inj->lib->send_ex(inj->handle, pkt.data(), static_cast<unsigned>(*n), nullptr, 0, &a, sizeof a, nullptr))
      return make_error("socket", "cannot inject a UDP reply: " + win::last_error_text());
    return ok();
  }
};

}  // namespace

result<std::unique_ptr<redirector>> install_redirect(const redirect_plan& plan) {
  if (auto f = filter::windivert(plan.inputs)) shared_capture().set_diagnostics(*f, "");
  auto lib = library();
  if (!lib) return lib.err();
  auto r = std::make_unique<windivert_redirector>(*lib);
  if (auto st = r->update(plan); !st) return st.err();
  return std::unique_ptr<redirector>(std::move(r));
}

// WinDivert's filters go with the handles that hold them: a crashed engine
// leaves nothing behind.
void remove_stale_redirect() {}
bool leftover_redirect_present() { return false; }
std::string leftover_redirect_hint() { return ""; }

result<std::unique_ptr<flow_capture>> open_flow_capture() {
  auto lib = library();
  if (!lib) return lib.err();
  return win::open_windivert_capture(*lib);
}

// The listener's peer is S:cp (the reflect swapped the addresses): the NAT
// entry of client port cp, if it names that same address, is the original
// destination. Anyone else reaching the listener gets nothing.
result<endpoint> original_dst(native_socket accepted) {
  sockaddr_storage peer{};
  int n = sizeof peer;
  if (::getpeername(static_cast<SOCKET>(accepted), reinterpret_cast<sockaddr*>(&peer), &n) != 0)
    return make_error("socket", "getpeername: " + win::error_text(::WSAGetLastError()));
  endpoint p = endpoint_of(peer);
  auto family = p.k == endpoint::kind::v6 ? packet::ip_version::v6 : packet::ip_version::v4;
  auto nat = shared_capture().nat({family, flow_proto::tcp, p.port});
  if (!nat || nat->original_dst.addr_string() != p.addr_string())
    return make_error("not_redirected", "a connection to the listener that no redirect made: " + p.to_string());
  return nat->original_dst;
}

std::vector<std::pair<std::string, std::string>> capture_details() {
  auto [filter, library] = shared_capture().diagnostics();
  return {{"windivert_dll", library.empty() ? "not loaded yet" : library},
          {"windivert_filter_network", filter.empty() ? "not built yet" : filter},
          {"windivert_filter_socket", win::socket_layer_filter}};
}

const char* tcp_listener_address() { return "0.0.0.0"; }
status prepare_udp_listener(native_socket) { return ok(); }

result<udp_received> receive_udp(native_socket listener, uint8_t* buf, size_t cap) {
  thread_local std::vector<uint8_t> d(65536);
  sockaddr_in from{};
  int flen = sizeof from;
  int n = ::recvfrom(static_cast<SOCKET>(listener), reinterpret_cast<char*>(d.data()), static_cast<int>(d.size()), 0,
                     reinterpret_cast<sockaddr*>(&from), &flen);
  if (n < 0) {
    int e = ::WSAGetLastError();
    if (e == WSAEWOULDBLOCK) return make_error("would_block", "no datagram");
    return make_error("socket", "UDP listener: " + win::error_text(static_cast<unsigned long>(e)));
  }
  // Only the capture's own forwarding socket speaks to the listener.
  auto header = win::read_forward_header(d.data(), static_cast<size_t>(n));
  if (from.sin_addr.s_addr != htonl(INADDR_LOOPBACK) || ntohs(from.sin_port) != shared_capture().forward_port ||
      !header)
    return make_error("would_block", "a datagram not from the capture");
  size_t len = static_cast<size_t>(n) - win::forward_header_len;
  if (len > cap) return make_error("would_block", "a datagram larger than the buffer");
  udp_received r;
  r.len = len;
  r.source = header->source;
  r.original_dst = header->original_dst;
  std::memcpy(buf, d.data() + win::forward_header_len, len);
  return r;
}

result<std::unique_ptr<udp_delivery>> open_udp_delivery() {
  return std::unique_ptr<udp_delivery>(std::make_unique<injected_delivery>());
}

// Drover's own sockets reach only the proxy, whose addresses the filter
// leaves out.
status exclude_from_capture(native_socket) { return ok(); }
status set_receive_buffer(native_socket s, int bytes) {
  ::setsockopt(static_cast<SOCKET>(s), SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&bytes), sizeof bytes);
  return ok();
}

}  // namespace drover::platform
