// The control channel over real named pipes (a fresh name per test): many
// clients at once, the per-client limits, watchers, asynchronous replies,
// stop() with clients connected, and the access checks Wine can show.
#include <gtest/gtest.h>
#include <windows.h>

#include <sddl.h>  // after windows.h, whose types it uses

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/control_socket.hpp"
#include "tests/platform/control_channel_cases.hpp"

namespace {

using namespace control_cases;

// Wine's GetProcessHandleCount always says 0; there the lowest free handle
// value tells instead (Wine hands out the lowest free slot).
DWORD handle_count() {
  DWORD n = 0;
  if (::GetProcessHandleCount(::GetCurrentProcess(), &n) && n > 0) return n;
  HANDLE probe = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  n = static_cast<DWORD>(reinterpret_cast<uintptr_t>(probe) / 4);
  ::CloseHandle(probe);
  return n;
}

// A client speaking the protocol by hand, to do what control_request won't.
class raw_client : public line_client<raw_client> {
 public:
  explicit raw_client(const std::string& path) {
    std::wstring name(path.begin(), path.end());
    auto until = clock_type::now() + 5s;
    do {
      h_ = ::CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED,
                         nullptr);
      if (h_ != INVALID_HANDLE_VALUE || ::GetLastError() != ERROR_PIPE_BUSY) break;
      ::WaitNamedPipeW(name.c_str(), 100);
    } while (clock_type::now() < until);
    ev_ = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  }
  ~raw_client() {
    reset();
    ::CloseHandle(ev_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;
  bool ok() const { return h_ != INVALID_HANDLE_VALUE; }
  void reset() {
    if (ok()) ::CloseHandle(h_);
    h_ = INVALID_HANDLE_VALUE;
  }
  bool send(const std::string& s) {
    std::string copy = s;
    for (size_t off = 0; off < copy.size();) {
      long n = io(true, copy.data() + off, copy.size() - off, 2000);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  /// For line_client.
  long read_some(char* p, size_t len, long ms) { return io(false, p, len, ms); }

 private:
  // Bytes moved; 0 at end of stream (the server closed); -1 on timeout.
  long io(bool write, char* p, size_t len, long timeout_ms) {
    if (timeout_ms <= 0) return -1;
    OVERLAPPED ov{};
    ::ResetEvent(ev_);
    ov.hEvent = ev_;
    auto n32 = static_cast<DWORD>(len);
    BOOL done = write ? ::WriteFile(h_, p, n32, nullptr, &ov) : ::ReadFile(h_, p, n32, nullptr, &ov);
    if (!done && ::GetLastError() != ERROR_IO_PENDING) return 0;
    bool timed_out = ::WaitForSingleObject(ev_, static_cast<DWORD>(timeout_ms)) != WAIT_OBJECT_0;
    if (timed_out) ::CancelIoEx(h_, &ov);
    DWORD n = 0;
    if (!::GetOverlappedResult(h_, &ov, &n, TRUE)) return timed_out ? -1 : 0;
    return static_cast<long>(n);
  }
  HANDLE h_ = INVALID_HANDLE_VALUE;
  HANDLE ev_ = nullptr;
};

class control_pipe : public control_channel_test {
 protected:
  using client = raw_client;
  static constexpr size_t slots = drover::platform::control_max_clients;
  static constexpr long quick_ms = 300;  // Wine's pipes are slower to connect

  void SetUp() override {
    static std::atomic<int> n{0};
    path_ = "\\\\.\\pipe\\drover-test-" + std::to_string(::GetCurrentProcessId()) + "-" + std::to_string(++n);
  }
  void start() {
    auto st = server_.listen(path_);
    ASSERT_TRUE(st.ok()) << st.err().message;
    serve();
  }
};
INSTANTIATE_TYPED_TEST_SUITE_P(NamedPipe, control_channel, control_pipe);

TEST_F(control_pipe, RequestAndReply) {
  start();
  EXPECT_EQ(ask(path_, "status"), status_line);
  EXPECT_EQ(ask(path_, "nonsense"), R"({"error":"unknown request"})");
  raw_client c(path_);
  ASSERT_TRUE(c.send("status\r\n"));  // cmd's `echo` ends lines in CRLF
  EXPECT_EQ(c.line(1000), status_line);
  EXPECT_EQ(c.drain_to_eof(1000), 0);  // then the server closes
}

TEST_F(control_pipe, ClientsOfListenAreServedOnceServing) {
  ASSERT_TRUE(server_.listen(path_));
  raw_client early(path_);
  ASSERT_TRUE(early.ok());
  ASSERT_TRUE(early.send("status\n"));
  serve();
  EXPECT_EQ(early.line(1000), status_line);
}

TEST_F(control_pipe, NoInstance) {
  auto r = control_request(path_, "status");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "no_instance");
  auto w = control_watch(path_, [](const std::string&) { return true; });
  ASSERT_FALSE(w);
  EXPECT_EQ(w.err().code, "no_instance");
}

TEST_F(control_pipe, SecondListenFindsTheInstanceRunning) {
  start();
  control_server second;
  auto r = second.listen(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "instance_running");
  EXPECT_NE(r.err().message.find(path_), std::string::npos) << r.err().message;
  second.stop();  // must not disturb the first
  EXPECT_EQ(ask(path_, "status"), status_line);
  server_.stop();
  EXPECT_EQ(control_request(path_, "status").err().code, "no_instance");  // the name is gone with it
  EXPECT_TRUE(second.listen(path_));
}

TEST_F(control_pipe, MissingLateAndRepeatedReplies) {
  start();
  EXPECT_EQ(ask(path_, "drop"), R"({"error":"internal error: the request got no answer"})");
  {
    raw_client c(path_);
    ASSERT_TRUE(c.send("hold\n"));
    ASSERT_TRUE(eventually([&] { return held() == 1; }, 1000ms));
  }  // gone before its answer
  std::this_thread::sleep_for(50ms);
  held_[0]("late");
  held_[0]("twice");  // only the first call counts
  raw_client c(path_);
  ASSERT_TRUE(c.send("hold\n"));
  ASSERT_TRUE(eventually([&] { return held() == 2; }, 1000ms));
  std::thread([&] { held_[1]("from elsewhere"); }).join();
  held_[1]("again");
  EXPECT_EQ(c.line(1000), "from elsewhere");
  EXPECT_EQ(c.drain_to_eof(1000), 0);
}

TEST_F(control_pipe, TricklingClientIsClosedAfterTwoSecondsAndDelaysNobody) {
  start();
  raw_client slow(path_);
  ASSERT_TRUE(slow.ok());
  auto t0 = clock_type::now();
  ASSERT_TRUE(slow.send("sta"));
  std::this_thread::sleep_for(1000ms);
  ASSERT_TRUE(slow.send("t"));
  auto t = clock_type::now();
  EXPECT_EQ(ask(path_, "status"), status_line);
  EXPECT_LT(ms_since(t), 300);
  EXPECT_EQ(slow.drain_to_eof(3000), 0);  // its 2 s ran out mid-line: no answer
  EXPECT_GE(ms_since(t0), 1800);
  EXPECT_LT(ms_since(t0), 2800);
  EXPECT_EQ(calls_, 1);
}

TEST_F(control_pipe, StopClosesEveryoneAndLeaksNothing) {
  const DWORD baseline = handle_count();
  for (int round = 0; round < 3; ++round) {
    control_server s;
    ASSERT_TRUE(s.listen(path_));
    std::vector<control_server::reply_fn> kept;
    std::mutex mu;
    s.serve([&](const std::string& req, control_server::reply_fn reply) {
      if (req == "status") return reply(status_line);
      std::lock_guard<std::mutex> g(mu);
      kept.push_back(std::move(reply));
    });
    std::vector<std::unique_ptr<raw_client>> clients;
    for (int i = 0; i < 10; ++i) {
      clients.push_back(std::make_unique<raw_client>(path_));
      ASSERT_TRUE(clients.back()->send(i % 3 == 0 ? "watch\n" : i % 3 == 1 ? "hold\n" : "sta"));
    }
    ASSERT_TRUE(eventually(
        [&] {
          std::lock_guard<std::mutex> g(mu);
          return kept.size() == 3;
        },
        2000ms));
    auto t0 = clock_type::now();
    s.stop();
    EXPECT_LT(ms_since(t0), 500);
    kept[0]("after stop");  // goes nowhere
    for (auto& c : clients) EXPECT_GE(c->drain_to_eof(1000), 0);
    kept.clear();
  }
  EXPECT_TRUE(eventually([&] { return handle_count() <= baseline; }, 1000ms))
      << handle_count() - baseline << " handles more than before";
}

TEST_F(control_pipe, PipeOfAnotherUserIsDenied) {
  // A pipe only SYSTEM may open stands in for another user's engine.
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_TRUE(
      ::ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;GA;;;SY)", SDDL_REVISION_1, &sd, nullptr));
  SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
  std::wstring name(path_.begin(), path_.end());
  HANDLE h = ::CreateNamedPipeW(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 4096, 4096, 0, &sa);
  ::LocalFree(sd);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  auto r = control_request(path_, "status", 500);
  ::CloseHandle(h);
  ASSERT_FALSE(r);
  if (r.err().code == "no_reply")
    GTEST_SKIP() << "Wine let this user open a pipe whose DACL allows only SYSTEM (it runs everything as one "
                    "administrator): the permission_denied mapping is not exercised";
  EXPECT_EQ(r.err().code, "permission_denied") << r.err().message;
}

}  // namespace
