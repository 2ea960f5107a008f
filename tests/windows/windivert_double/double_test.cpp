// The WinDivert.dll test double against its file protocol
// (double_control.hpp): what the Windows packet path's end-to-end tests rely
// on. Handles here; the filter compiler and checksums in
// double_helpers_test.cpp.
#include <atomic>

#include "tests/windows/windivert_double/double_test_util.hpp"

using namespace double_test;

namespace {

wd::address network_address(bool outbound, uint32_t if_idx) {
  wd::address a{};
  a.layer = wd::layer_network;
  a.outbound = outbound ? 1 : 0;
  a.network.if_idx = if_idx;
  a.network.sub_if_idx = 7;
  return a;
}

class WinDivertDouble : public double_fixture {};

TEST_F(WinDivertDouble, ExportsEveryFunctionDroverResolves) {
  const api& a = dll();
  for (const void* f : {(const void*)a.open, (const void*)a.recv_ex, (const void*)a.send_ex, (const void*)a.shutdown,
                        (const void*)a.close, (const void*)a.set_param, (const void*)a.get_param,
                        (const void*)a.compile_filter, (const void*)a.calc_checksums})
    EXPECT_NE(f, nullptr);
}

TEST_F(WinDivertDouble, OpenRecordsItsArgumentsAndGivesAHandle) {
  void* h = open("outbound and tcp", wd::layer_network, -5, wd::flag_sniff);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  void* s = open("processId == 7", wd::layer_socket, 1, wd::flag_sniff | wd::flag_recv_only);
  ASSERT_NE(s, INVALID_HANDLE_VALUE);
  EXPECT_EQ(get(L"open-1.txt"), "filter=outbound and tcp\nlayer=0\npriority=-5\nflags=1\nresult=handle\n");
  EXPECT_EQ(get(L"open-2.txt"), "filter=processId == 7\nlayer=3\npriority=1\nflags=5\nresult=handle\n");
  EXPECT_TRUE(dll().close(h));
  EXPECT_TRUE(dll().close(s));
  EXPECT_EQ(get(L"closed-1"), "");
  EXPECT_FALSE(dll().close(h));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

TEST_F(WinDivertDouble, OpenRejectsWhatTheDllRejects) {
  struct bad {
    const char* filter;
    wd::layer l;
    uint64_t flags;
  };
  for (bad b : {bad{"tcp", wd::layer_network, wd::flag_sniff | wd::flag_drop},
                bad{"tcp", wd::layer_network, wd::flag_recv_only | wd::flag_send_only},
                bad{"tcp", wd::layer_socket, wd::flag_sniff},  // SOCKET needs RECV_ONLY
                bad{"not (tcp)", wd::layer_network, 0}, bad{"tcp", static_cast<wd::layer>(9), 0}}) {
    EXPECT_EQ(open(b.filter, b.l, 0, b.flags), INVALID_HANDLE_VALUE) << b.filter;
    EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER)) << b.filter;
  }
}

TEST_F(WinDivertDouble, OpenFailsWithTheCodeInOpenError) {
  for (DWORD code : {5u, 577u, 654u, 1275u, 1753u}) {
    put(L"open-error", std::to_string(code));
    EXPECT_EQ(open("true"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(::GetLastError(), code);
  }
  EXPECT_EQ(get(L"open-5.txt").find("result=error 1753\n") != std::string::npos, true) << get(L"open-5.txt");
  ::DeleteFileW(at(L"open-error").c_str());
  put(L"open-error-socket", "1275");
  void* n = open("true");
  EXPECT_NE(n, INVALID_HANDLE_VALUE);
  EXPECT_EQ(open("true", wd::layer_socket, 0, wd::flag_sniff | wd::flag_recv_only), INVALID_HANDLE_VALUE);
  EXPECT_EQ(::GetLastError(), 1275u);
  dll().close(n);
}

TEST_F(WinDivertDouble, ReceiveBatchesUpToTheAddressArrayAndConsumesInOrder) {
  void* h = open("true");
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  std::string p1 = udp_packet(false, "one"), p2 = udp_packet(true, "second"), p3 = udp_packet(false, "3");
  feed(wd::layer_network, network_address(true, 11), p1);
  feed(wd::layer_network, network_address(false, 12), p2);
  feed(wd::layer_network, network_address(true, 13), p3);
  char buf[3 * 1500];
  wd::address addr[4];
  unsigned got = 0, addr_len = sizeof(wd::address);  // room for one: a batch of one
  ASSERT_TRUE(dll().recv_ex(h, buf, sizeof buf, &got, 0, addr, &addr_len, nullptr));
  EXPECT_EQ(addr_len, sizeof(wd::address));
  EXPECT_EQ(std::string(buf, got), p1);
  EXPECT_EQ(addr[0].network.if_idx, 11u);
  EXPECT_TRUE(dc::exists(at(L"done\\network-000001.pkt")));
  addr_len = sizeof addr;  // reset before every call, as documented
  ASSERT_TRUE(dll().recv_ex(h, buf, sizeof buf, &got, 0, addr, &addr_len, nullptr));
  EXPECT_EQ(addr_len, 2 * sizeof(wd::address));
  EXPECT_EQ(std::string(buf, got), p2 + p3);  // packed without gaps
  EXPECT_EQ(addr[0].network.if_idx, 12u);
  EXPECT_EQ(addr[0].outbound, 0u);
  EXPECT_EQ(addr[1].network.if_idx, 13u);
  EXPECT_TRUE(dc::list(at(L"in-network"), L"*.pkt").empty());
  dll().close(h);
}

TEST_F(WinDivertDouble, ReceiveWaitsForARecordAndTruncatesToTheBuffer) {
  void* h = open("true");
  std::string p = udp_packet(false, std::string(100, 'x'));
  std::thread later([&] { sleep_ms(150), feed(wd::layer_network, network_address(true, 1), p); });
  char buf[2000];
  wd::address a;
  unsigned got = 0;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(dll().recv_ex(h, buf, sizeof buf, &got, 0, &a, nullptr, nullptr));  // null length: one address
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_EQ(got, p.size());
  later.join();
  feed(wd::layer_network, network_address(true, 1), p);
  EXPECT_FALSE(dll().recv_ex(h, buf, 50, &got, 0, &a, nullptr, nullptr));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(got, 50u);
  EXPECT_EQ(std::string(buf, 50), p.substr(0, 50));
  dll().close(h);
}

TEST_F(WinDivertDouble, SocketLayerRecordsHaveNoPacketAndGoOnlyToSocketHandles) {
  void* n = open("true");
  void* s = open("true", wd::layer_socket, 0, wd::flag_sniff | wd::flag_recv_only);
  wd::address ev{};
  ev.layer = wd::layer_socket;
  ev.event = wd::event_socket_connect;
  ev.socket.process_id = 4242;
  ev.socket.local_port = 50000;
  feed(wd::layer_socket, ev, "");
  wd::address got[8];
  unsigned len = 0, addr_len = sizeof got;
  ASSERT_TRUE(dll().recv_ex(s, nullptr, 0, &len, 0, got, &addr_len, nullptr));
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(addr_len, sizeof(wd::address));
  EXPECT_EQ(got[0].event, wd::event_socket_connect);
  EXPECT_EQ(got[0].socket.process_id, 4242u);
  ASSERT_TRUE(dll().shutdown(n, wd::shutdown_recv));
  char buf[100];
  EXPECT_FALSE(dll().recv_ex(n, buf, sizeof buf, &len, 0, got, &addr_len, nullptr));  // nothing for NETWORK
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  dll().close(n);
  dll().close(s);
}

TEST_F(WinDivertDouble, ShutdownAndCloseEndABlockedReceiveWithNoData) {
  for (bool by_close : {false, true}) {
    void* h = open("true");
    std::atomic<DWORD> error{0};
    std::thread reader([&] {
      char buf[1500];
      wd::address a;
      if (!dll().recv_ex(h, buf, sizeof buf, nullptr, 0, &a, nullptr, nullptr)) error = ::GetLastError();
    });
    sleep_ms(100);
    by_close ? dll().close(h) : dll().shutdown(h, wd::shutdown_both);
    reader.join();
    EXPECT_EQ(error.load(), static_cast<DWORD>(ERROR_NO_DATA)) << by_close;
    if (!by_close) {
      // Queued before: still received after the shutdown, then no data.
      feed(wd::layer_network, network_address(true, 1), udp_packet(false, "q"));
      char buf[1500];
      wd::address a;
      EXPECT_TRUE(dll().recv_ex(h, buf, sizeof buf, nullptr, 0, &a, nullptr, nullptr));
      EXPECT_FALSE(dll().recv_ex(h, buf, sizeof buf, nullptr, 0, &a, nullptr, nullptr));
      EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
      std::string p = udp_packet(false, "x");
      EXPECT_FALSE(dll().send_ex(h, p.data(), static_cast<unsigned>(p.size()), nullptr, 0, &a, sizeof a, nullptr));
      EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
      dll().close(h);
    }
  }
}

TEST_F(WinDivertDouble, LoseHandleMakesEveryCallFailAsAnInvalidHandle) {
  void* a = open("true");
  void* b = open("true");
  std::atomic<DWORD> error{0};
  std::thread reader([&] {
    char buf[1500];
    wd::address ad;
    if (!dll().recv_ex(a, buf, sizeof buf, nullptr, 0, &ad, nullptr, nullptr)) error = ::GetLastError();
  });
  sleep_ms(50);
  put(L"lose-handle-1", "");  // the first handle only
  reader.join();
  EXPECT_EQ(error.load(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  uint64_t v = 0;
  EXPECT_FALSE(dll().get_param(a, wd::param_queue_length, &v));
  EXPECT_TRUE(dll().get_param(b, wd::param_queue_length, &v));
  put(L"lose-handle", "");
  EXPECT_FALSE(dll().get_param(b, wd::param_queue_length, &v));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  dll().close(a);
  dll().close(b);
}

TEST_F(WinDivertDouble, SendWritesEachPacketWithItsAddressInOrder) {
  void* h = open("false");
  std::string p1 = udp_packet(false, "reply"), p2 = udp_packet(true, "six");
  wd::address addr[2] = {network_address(false, 21), network_address(true, 22)};
  std::string batch = p1 + p2;
  unsigned sent = 0;
  ASSERT_TRUE(
      dll().send_ex(h, batch.data(), static_cast<unsigned>(batch.size()), &sent, 0, addr, sizeof addr, nullptr));
  EXPECT_EQ(sent, batch.size());
  EXPECT_EQ(get(L"out\\000001.pkt"), dc::record(addr[0], p1.data(), p1.size()));
  EXPECT_EQ(get(L"out\\000002.pkt"), dc::record(addr[1], p2.data(), p2.size()));
  ASSERT_TRUE(dll().send_ex(h, p1.data(), static_cast<unsigned>(p1.size()), nullptr, 0, addr, sizeof addr[0], nullptr));
  EXPECT_EQ(dc::list(at(L"out"), L"*").size(), 3u);  // 000003.pkt, and no temporary left
  // Wrong batches, and layers or handles that cannot inject.
  EXPECT_FALSE(
      dll().send_ex(h, batch.data(), static_cast<unsigned>(batch.size()), nullptr, 0, addr, sizeof addr[0], nullptr));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  void* r = open("true", wd::layer_network, 0, wd::flag_recv_only);
  void* s = open("true", wd::layer_socket, 0, wd::flag_sniff | wd::flag_recv_only);
  for (void* x : {r, s}) {
    EXPECT_FALSE(
        dll().send_ex(x, p1.data(), static_cast<unsigned>(p1.size()), nullptr, 0, addr, sizeof addr[0], nullptr));
    EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    dll().close(x);
  }
  dll().close(h);
}

TEST_F(WinDivertDouble, OverlappedReceiveCompletesThroughTheEvent) {
  void* h = open("true");
  OVERLAPPED ov{};
  ov.hEvent = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  char buf[1500];
  wd::address a[2];
  unsigned addr_len = sizeof a;
  EXPECT_FALSE(dll().recv_ex(h, buf, sizeof buf, nullptr, 0, a, &addr_len, &ov));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_EQ(::WaitForSingleObject(ov.hEvent, 50), static_cast<DWORD>(WAIT_TIMEOUT));
  std::string p = udp_packet(false, "late");
  feed(wd::layer_network, network_address(true, 3), p);
  ASSERT_EQ(::WaitForSingleObject(ov.hEvent, 5000), static_cast<DWORD>(WAIT_OBJECT_0));
  DWORD n = 0;
  ASSERT_TRUE(::GetOverlappedResult(h, &ov, &n, FALSE));
  EXPECT_EQ(n, p.size());
  EXPECT_EQ(addr_len, sizeof(wd::address));
  ::ResetEvent(ov.hEvent);
  EXPECT_FALSE(dll().recv_ex(h, buf, sizeof buf, nullptr, 0, a, &addr_len, &ov));
  dll().shutdown(h, wd::shutdown_recv);
  ASSERT_EQ(::WaitForSingleObject(ov.hEvent, 5000), static_cast<DWORD>(WAIT_OBJECT_0));
  EXPECT_FALSE(::GetOverlappedResult(h, &ov, &n, FALSE));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  dll().close(h);
  ::CloseHandle(ov.hEvent);
}

TEST_F(WinDivertDouble, ParamsKeepValuesAndReportVersionTwoPointTwo) {
  void* h = open("true");
  uint64_t v = 0;
  ASSERT_TRUE(dll().get_param(h, wd::param_queue_length, &v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(dll().set_param(h, wd::param_queue_length, 8192));
  EXPECT_TRUE(dll().set_param(h, wd::param_queue_time, 500));
  dll().get_param(h, wd::param_queue_length, &v);
  EXPECT_EQ(v, 8192u);
  dll().get_param(h, wd::param_queue_time, &v);
  EXPECT_EQ(v, 500u);
  dll().get_param(h, wd::param_version_major, &v);
  EXPECT_EQ(v, 2u);
  dll().get_param(h, wd::param_version_minor, &v);
  EXPECT_EQ(v, 2u);
  EXPECT_FALSE(dll().set_param(h, wd::param_queue_length, 16));  // below the documented minimum
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_FALSE(dll().set_param(h, wd::param_version_major, 3));
  dll().close(h);
}

}  // namespace
