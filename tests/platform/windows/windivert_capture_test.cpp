// The Windows redirect seam on the test-double WinDivert.dll: this program
// sits beside the double (bin/windivert_double/), so the platform code
// loads it exactly as drover.exe loads the real one. Packets are fed to the
// double's NETWORK and SOCKET layers as WinDivert would deliver them; what
// the capture injects is read back from the double's records.
#include <gtest/gtest.h>
#include <windows.h>
#include <winsock2.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/divert_rewrite.hpp"
#include "core/filter.hpp"
#include "platform/flow_owner.hpp"
#include "platform/redirect.hpp"
#include "platform/windows/capture_state.hpp"
#include "platform/windows/sha256.hpp"
#include "platform/windows/win_handle.hpp"
#include "platform/windows/windivert_loader.hpp"
#include "tests/core/divert_packets.hpp"
#include "tests/windows/windivert_double/double_control.hpp"
#include "tests/windows/windivert_double/double_test_util.hpp"

namespace {

namespace wd = windivert;
namespace dc = windivert_double;
namespace dt = drover::divert_test;
using namespace drover;

using double_test::own_dir;  // this program's directory, where the double is

std::string file_sha(const std::wstring& p) {
  auto c = dc::read_all(p).value_or("");
  return platform::win::sha256_hex(c.data(), c.size()).value_or("?");
}

// The double, trusted as a test build trusts it; a stand-in driver file.
void trust_the_double() {
  static bool done = [] {
    std::wstring sys = own_dir() + L"\\WinDivert64.sys";
    if (!dc::exists(sys)) dc::write_all(sys, "the test double has no driver");
    platform::win::add_trusted_windivert_files(
        {{"WinDivert.dll", file_sha(own_dir() + L"\\WinDivert.dll")}, {"WinDivert64.sys", file_sha(sys)}});
    return true;
  }();
  (void)done;
}

const dt::addr4 client{10, 0, 0, 5}, server{203, 0, 113, 7};
const uint16_t tcp_listener = 4000, udp_listener_port = 0;

dt::hdr tcp_hdr(uint16_t sport, uint16_t dport, uint8_t flags) {
  dt::hdr h{};
  h.v6 = false, h.proto = 6, h.src4 = client, h.dst4 = server, h.sport = sport, h.dport = dport, h.flags = flags;
  return h;
}

class capture_test : public ::testing::Test {
 protected:
  void SetUp() override {
    trust_the_double();
    wchar_t tmp[MAX_PATH];
    ::GetTempPathW(MAX_PATH, tmp);
    dir_ = std::wstring(tmp) + L"drover-capture-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
           std::to_wstring(::GetTickCount64());
    ::CreateDirectoryW(dir_.c_str(), nullptr);
    ::SetEnvironmentVariableW(dc::dir_variable, dir_.c_str());
    platform::redirect_plan plan;
    plan.tcp_port = tcp_listener;
    plan.udp_port = udp_listener_port;
    auto r = platform::install_redirect(plan);
    ASSERT_TRUE(r) << r.err().message;
    redirect_ = std::move(*r);
  }
  void TearDown() override {
    if (capture_) capture_->shutdown();
    if (loop_.joinable()) loop_.join();
    capture_.reset();
    redirect_.reset();
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir_), ec);
  }

  // Runs the capture with `decide` on its own thread.
  void run(std::function<verdict(const uint8_t*, size_t)> decide) {
    auto c = platform::open_flow_capture();
    ASSERT_TRUE(c) << c.err().message;
    capture_ = std::move(*c);
    loop_ = std::thread([this, decide] {
      result_ = capture_->run([&](const uint8_t* p, size_t n, const platform::packet_origin&) { return decide(p, n); });
    });
  }
  void feed(const std::vector<uint8_t>& p, uint32_t if_idx = 7) {
    wd::address a{};
    a.layer = wd::layer_network, a.outbound = 1, a.network.if_idx = if_idx, a.network.sub_if_idx = 1;
    std::wstring in = dc::path(dir_, L"in-network");
    ::CreateDirectoryW(in.c_str(), nullptr);
    dc::publish_numbered(in, L"", 6, L".pkt", dc::record(a, p.data(), p.size()), 1);
  }
  void feed_socket_event(wd::event e, uint16_t port, uint32_t pid) {
    wd::address a{};
    a.layer = wd::layer_socket, a.event = e, a.socket.protocol = 6, a.socket.local_port = port;
    a.socket.process_id = pid;
    std::wstring in = dc::path(dir_, L"in-socket");
    ::CreateDirectoryW(in.c_str(), nullptr);
    dc::publish_numbered(in, L"", 6, L".pkt", dc::record(a, nullptr, 0), 1);
  }
  // The n-th packet the capture injected (1-based), waiting up to 3 s.
  bool sent(int n, wd::address& a, std::vector<uint8_t>& p) {
    auto name = dc::path(dc::path(dir_, L"out"), dc::number_name(n, 6) + L".pkt");
    for (int i = 0; i < 300 && !dc::exists(name); ++i) ::Sleep(10);
    auto rec = dc::read_all(name);
    if (!rec || rec->size() < sizeof a) return false;
    std::memcpy(&a, rec->data(), sizeof a);
    p.assign(rec->begin() + sizeof a, rec->end());
    return true;
  }

  std::wstring dir_;
  std::unique_ptr<platform::redirector> redirect_;
  std::unique_ptr<platform::flow_capture> capture_;
  std::thread loop_;
  status result_ = ok();
};

TEST_F(capture_test, TargetTcpIsReflectedToTheListenerAndRepliesBack) {
  std::atomic<int> decisions{0};
  run([&](const uint8_t*, size_t) {
    ++decisions;
    return verdict::redirect_tcp;
  });
  feed(dt::build(tcp_hdr(50000, 443, packet::tcp_syn), 0));
  wd::address a{};
  std::vector<uint8_t> p;
  ASSERT_TRUE(sent(1, a, p));
  auto v = packet::parse(p.data(), p.size());
  ASSERT_TRUE(v);
  // S:cp -> C:listener, sent inbound on the interface it came from.
  EXPECT_EQ(divert::source_of(*v).to_string(), "203.0.113.7:50000");
  EXPECT_EQ(divert::destination_of(*v).to_string(), "10.0.0.5:4000");
  EXPECT_EQ(a.outbound, 0u);
  EXPECT_EQ(a.network.if_idx, 7u);
  EXPECT_TRUE(dt::reference_checksums_ok(p));
  auto nat = platform::win::shared_capture().nat({packet::ip_version::v4, flow_proto::tcp, 50000});
  ASSERT_TRUE(nat);
  EXPECT_EQ(nat->original_dst.to_string(), "203.0.113.7:443");
  // The listener's SYN-ACK to S:cp goes back to the app as S:443 -> C:cp.
  auto reply = tcp_hdr(4000, 50000, packet::tcp_syn | packet::tcp_ack);
  reply.dst4 = server;
  feed(dt::build(reply, 0));
  ASSERT_TRUE(sent(2, a, p));
  v = packet::parse(p.data(), p.size());
  ASSERT_TRUE(v);
  EXPECT_EQ(divert::source_of(*v).to_string(), "203.0.113.7:443");
  EXPECT_EQ(divert::destination_of(*v).to_string(), "10.0.0.5:50000");
  EXPECT_EQ(a.outbound, 0u);
  EXPECT_EQ(decisions, 1) << "the listener's packets are never decided";
}

TEST_F(capture_test, ANonTargetIsReinjectedByteForByteAndDecidedOnce) {
  std::atomic<int> decisions{0};
  run([&](const uint8_t*, size_t) {
    ++decisions;
    return verdict::direct;
  });
  auto syn = dt::build(tcp_hdr(50001, 80, packet::tcp_syn), 0);
  auto data = dt::build(tcp_hdr(50001, 80, packet::tcp_ack), 100);
  feed(syn);
  feed(data);
  wd::address a{};
  std::vector<uint8_t> p;
  ASSERT_TRUE(sent(1, a, p));
  EXPECT_EQ(p, syn);
  EXPECT_EQ(a.outbound, 1u);
  ASSERT_TRUE(sent(2, a, p));
  EXPECT_EQ(p, data);
  EXPECT_EQ(decisions, 1);
}

TEST_F(capture_test, ARefusedTcpFlowGetsAResetNothingLeaves) {
  run([](const uint8_t*, size_t) { return verdict::refuse; });
  feed(dt::build(tcp_hdr(50002, 443, packet::tcp_syn), 0));
  wd::address a{};
  std::vector<uint8_t> p;
  ASSERT_TRUE(sent(1, a, p));
  auto v = packet::parse(p.data(), p.size());
  ASSERT_TRUE(v);
  EXPECT_NE(v->tcp_flags & packet::tcp_rst, 0);
  EXPECT_EQ(divert::source_of(*v).to_string(), "203.0.113.7:443");
  EXPECT_EQ(a.outbound, 0u);
  EXPECT_FALSE(dc::exists(dc::path(dc::path(dir_, L"out"), dc::number_name(2, 6) + L".pkt")));
}

TEST_F(capture_test, ASocketThatClosedIsDecidedAfresh) {
  std::atomic<int> decisions{0};
  run([&](const uint8_t*, size_t) {
    ++decisions;
    return verdict::direct;
  });
  feed(dt::build(tcp_hdr(50003, 80, packet::tcp_ack), 10));
  wd::address a{};
  std::vector<uint8_t> p;
  ASSERT_TRUE(sent(1, a, p));
  feed_socket_event(wd::event_socket_close, 50003, 1234);
  ::Sleep(100);  // the SOCKET layer's thread takes it
  feed(dt::build(tcp_hdr(50003, 80, packet::tcp_ack), 10));
  ASSERT_TRUE(sent(2, a, p));
  EXPECT_EQ(decisions, 2);
}

TEST_F(capture_test, TargetUdpIsTakenForTheRelayAndRepliesComeFromTheOriginalDestination) {
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  SOCKET l = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in la{};
  la.sin_family = AF_INET, la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int n = sizeof la;
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&la), sizeof la), 0);
  getsockname(l, reinterpret_cast<sockaddr*>(&la), &n);
  DWORD timeout = 3000;
  setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout), sizeof timeout);
  platform::redirect_plan plan;
  plan.tcp_port = tcp_listener;
  plan.udp_port = ntohs(la.sin_port);
  ASSERT_TRUE(redirect_->update(plan));
  run([](const uint8_t*, size_t) { return verdict::redirect_udp; });
  dt::hdr h{};
  h.v6 = false, h.proto = 17, h.src4 = client, h.dst4 = server, h.sport = 50010, h.dport = 3478;
  feed(dt::build(h, 1200), 9);  // a 1,200-byte first datagram, as QUIC and WebRTC send
  uint8_t buf[2048];
  auto r = platform::receive_udp(l, buf, sizeof buf);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(r->len, 1200u);
  EXPECT_EQ(r->source.to_string(), "10.0.0.5:50010");
  EXPECT_EQ(r->original_dst.to_string(), "203.0.113.7:3478");
  EXPECT_EQ(buf[0], 3);  // the builder's payload pattern
  // Nothing of it left for the network.
  EXPECT_FALSE(dc::exists(dc::path(dc::path(dir_, L"out"), dc::number_name(1, 6) + L".pkt")));
  auto d = platform::open_udp_delivery();
  ASSERT_TRUE(d);
  const uint8_t answer[] = {'p', 'o', 'n', 'g'};
  ASSERT_TRUE((*d)->deliver(r->original_dst, r->source, answer, sizeof answer));
  wd::address a{};
  std::vector<uint8_t> p;
  ASSERT_TRUE(sent(1, a, p));
  auto v = packet::parse(p.data(), p.size());
  ASSERT_TRUE(v);
  EXPECT_EQ(divert::source_of(*v).to_string(), "203.0.113.7:3478");
  EXPECT_EQ(divert::destination_of(*v).to_string(), "10.0.0.5:50010");
  EXPECT_EQ(a.outbound, 0u);
  EXPECT_EQ(a.network.if_idx, 9u) << "injected on the interface the app's datagram left by";
  EXPECT_TRUE(dt::reference_checksums_ok(p));
  closesocket(l);
}

TEST_F(capture_test, OnlyTheCapturesOwnDatagramsReachTheRelay) {
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  SOCKET l = socket(AF_INET, SOCK_DGRAM, 0), other = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in la{};
  la.sin_family = AF_INET, la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int n = sizeof la;
  bind(l, reinterpret_cast<sockaddr*>(&la), sizeof la);
  getsockname(l, reinterpret_cast<sockaddr*>(&la), &n);
  // Another local program posing as the capture: a header-shaped datagram.
  std::string fake(platform::win::forward_header_len + 10, '\0');
  uint32_t magic = htonl(platform::win::forward_magic);
  std::memcpy(&fake[0], &magic, 4);
  sendto(other, fake.data(), static_cast<int>(fake.size()), 0, reinterpret_cast<sockaddr*>(&la), sizeof la);
  ::Sleep(50);
  uint8_t buf[256];
  auto r = platform::receive_udp(l, buf, sizeof buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "would_block");
  closesocket(other);
  closesocket(l);
}

TEST_F(capture_test, TheSocketLayerTellsWhoseSocketItIs) {
  run([](const uint8_t*, size_t) { return verdict::direct; });
  feed_socket_event(wd::event_socket_connect, 50020, 4242);
  auto owner = platform::make_flow_owner();
  packet::view v;
  v.proto = packet::l4_proto::tcp, v.src_port = 50020;
  result<uint32_t> pid = make_error("none", "not yet");
  for (int i = 0; i < 100 && !(pid = owner->owner(v, {}, {4242}, [](const std::string&) { return false; })); ++i)
    ::Sleep(10);
  ASSERT_TRUE(pid) << pid.err().message;
  EXPECT_EQ(*pid, 4242u);
  feed_socket_event(wd::event_socket_close, 50020, 4242);
  ::Sleep(100);
  EXPECT_FALSE(platform::win::shared_capture().owner({packet::ip_version::v4, flow_proto::tcp, 50020}));
}

TEST_F(capture_test, ALostHandleEndsTheRunAsDriverLost) {
  run([](const uint8_t*, size_t) { return verdict::direct; });
  dc::write_all(dc::path(dir_, L"lose-handle"), "");
  loop_.join();
  ASSERT_FALSE(result_);
  EXPECT_EQ(result_.err().code, "driver_lost");
  capture_.reset();
}

// Every shape of filter core/filter builds passes the 2.2 grammar check:
// proxies of both families, one to three of them, extra skip ranges of both
// families, multicast kept or skipped.
TEST(capture_filter, EveryFilterCoreBuildsCompiles) {
  trust_the_double();
  const std::string dir = platform::win::to_utf8(own_dir());
  auto lib = platform::win::load_windivert(dir, platform::win::trusted_windivert_files());
  ASSERT_TRUE(lib) << lib.err().message;
  const std::vector<endpoint> proxies{*parse_ip("10.9.0.2", 1080), *parse_ip("fd77::2", 1080),
                                      *parse_ip("192.0.2.77", 443)};
  const std::vector<cidr> skips{*parse_cidr("192.168.0.0/16"), *parse_cidr("fd00::/8"), *parse_cidr("10.1.2.3/32"),
                                *parse_cidr("2001:db8::1/128")};
  int checked = 0;
  for (size_t np = 0; np <= proxies.size(); ++np)
    for (size_t ns = 0; ns <= skips.size(); ++ns)
      for (bool multicast : {true, false}) {
        filter::inputs in;
        in.upstream.assign(proxies.begin(), proxies.begin() + static_cast<long>(np));
        in.extra_skip.assign(skips.begin(), skips.begin() + static_cast<long>(ns));
        in.skip_multicast = multicast;
        auto f = filter::windivert(in);
        ASSERT_TRUE(f) << f.err().message;
        const char* why = nullptr;
        unsigned pos = 0;
        EXPECT_TRUE((*lib)->compile_filter(f->c_str(), wd::layer_network, nullptr, 0, &why, &pos))
            << "at " << pos << ": " << (why ? why : "?") << "\n"
            << *f;
        ++checked;
      }
  EXPECT_EQ(checked, 4 * 5 * 2);
  // And a filter WinDivert refuses is refused here too: the check is real.
  const char* why = nullptr;
  unsigned pos = 0;
  EXPECT_FALSE((*lib)->compile_filter("outbound and not (tcp)", wd::layer_network, nullptr, 0, &why, &pos));
}

TEST_F(capture_test, AHandleEndedByAnotherIsDriverLostNotAQuietEnd) {
  run([](const uint8_t*, size_t) { return verdict::direct; });
  auto inj = platform::win::shared_capture().current_injector();
  ASSERT_TRUE(inj);
  inj->lib->shutdown(inj->handle, wd::shutdown_both);  // not capture_->shutdown()
  loop_.join();
  ASSERT_FALSE(result_) << "the capture ended as if asked to: targets would go direct";
  EXPECT_EQ(result_.err().code, "driver_lost");
  capture_.reset();
}

TEST_F(capture_test, AnOpenErrorIsTheSentenceForItsCode) {
  dc::write_all(dc::path(dir_, L"open-error"), "654");
  auto c = platform::open_flow_capture();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.err().code, "driver_gone");
  EXPECT_NE(c.err().message.find("zapret"), std::string::npos) << c.err().message;
}

}  // namespace
