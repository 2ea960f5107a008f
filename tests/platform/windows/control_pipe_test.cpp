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

namespace {

using namespace std::chrono_literals;
using drover::platform::control_request;
using drover::platform::control_server;
using drover::platform::control_watch;
using clock_type = std::chrono::steady_clock;

const std::string status_line = R"({"state":"Idle"})";
const std::string too_many_line = R"j({"error":"too many control clients (64)"})j";
const std::string too_long_line = R"j({"error":"request too long (limit 64 KB)"})j";

long ms_since(clock_type::time_point t0) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
}

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

std::string ask(const std::string& path, const std::string& request, int timeout_ms = 1000) {
  auto r = control_request(path, request, timeout_ms);
  return r ? *r : "<" + r.err().code + ": " + r.err().message + ">";
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto until = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A client speaking the protocol by hand, to do what control_request won't.
class raw_client {
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
  /// One line within `timeout_ms`; nothing on timeout or end of stream.
  std::optional<std::string> line(int timeout_ms) {
    auto t0 = clock_type::now();
    while (buf_.find('\n') == std::string::npos) {
      char chunk[65536];
      long n = io(false, chunk, sizeof chunk, timeout_ms - ms_since(t0));
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<size_t>(n));
    }
    auto nl = buf_.find('\n');
    std::string l = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    return l;
  }
  /// Reads until the server closes: the bytes read, or -1 if it did not close in time.
  long drain_to_eof(int timeout_ms) {
    auto t0 = clock_type::now();
    long total = 0;
    for (;;) {
      char chunk[65536];
      long n = io(false, chunk, sizeof chunk, timeout_ms - ms_since(t0));
      if (n == 0) return total;
      if (n < 0) return -1;
      total += n;
    }
  }

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
  std::string buf_;
};

class control_pipe : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    path_ = "\\\\.\\pipe\\drover-test-" + std::to_string(::GetCurrentProcessId()) + "-" + std::to_string(++n);
  }
  void TearDown() override {
    server_.stop();  // first: no handler runs after this
    for (auto& t : workers_) t.join();
    held_.clear();
  }
  void start() {
    auto st = server_.listen(path_);
    ASSERT_TRUE(st.ok()) << st.err().message;
    serve();
  }
  void serve() {
    server_.serve([this](const std::string& req, control_server::reply_fn reply) { handle(req, std::move(reply)); });
  }
  void handle(const std::string& req, control_server::reply_fn reply) {
    ++calls_;
    std::lock_guard<std::mutex> g(mu_);
    if (req == "status" || req == "ping") {
      reply(req == "ping" ? R"({"ok":true})" : status_line);
    } else if (req == "slow") {  // answered from another thread, a second later
      workers_.emplace_back([reply] {
        std::this_thread::sleep_for(1s);
        reply("done");
      });
    } else if (req == "hold") {
      held_.push_back(std::move(reply));
    } else if (req == "drop") {
      // never answered: the server must answer for it
    } else if (!req.empty() && req[0] == 'x') {
      reply(std::to_string(req.size()));
    } else {
      reply(R"({"error":"unknown request"})");
    }
  }
  size_t held() {
    std::lock_guard<std::mutex> g(mu_);
    return held_.size();
  }

  std::string path_;
  control_server server_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<control_server::reply_fn> held_;
};

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

TEST_F(control_pipe, AsyncReplyFromAnotherThreadArrives) {
  start();
  auto slow = std::async(std::launch::async, [&] {
    auto t0 = clock_type::now();
    auto answer = ask(path_, "slow", 3000);
    return std::make_pair(answer, ms_since(t0));
  });
  std::this_thread::sleep_for(100ms);
  auto t = clock_type::now();
  EXPECT_EQ(ask(path_, "status"), status_line);  // not behind the slow one
  EXPECT_LT(ms_since(t), 300);
  auto [answer, ms] = slow.get();
  EXPECT_EQ(answer, "done");
  EXPECT_GE(ms, 900);
  EXPECT_LT(ms, 2000);
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

TEST_F(control_pipe, WatcherGetsPublishedLines) {
  start();
  std::mutex mu;
  std::vector<std::string> lines;
  std::promise<void> first, done;
  std::thread watch([&] {
    auto st = control_watch(path_, [&](const std::string& l) {
      std::lock_guard<std::mutex> g(mu);
      lines.push_back(l);
      if (lines.size() == 1) first.set_value();
      return lines.size() < 3;
    });
    EXPECT_TRUE(st.ok());
    done.set_value();
  });
  EXPECT_EQ(first.get_future().wait_for(2s), std::future_status::ready);
  std::thread([&] { server_.publish(R"({"n":1})"); }).join();  // from any thread
  server_.publish(R"({"n":2})");
  if (done.get_future().wait_for(2s) != std::future_status::ready) server_.stop();  // unblocks the watcher
  watch.join();
  EXPECT_EQ(lines, (std::vector<std::string>{status_line, R"({"n":1})", R"({"n":2})"}));
}

TEST_F(control_pipe, WatcherThatDoesNotReadIsDropped) {
  start();
  raw_client w(path_);
  ASSERT_TRUE(w.send("watch\n"));
  ASSERT_EQ(w.line(1000), status_line);
  const std::string big(16 * 1024, 'p');
  for (int i = 0; i < 64; ++i) server_.publish(big);  // 1 MB it does not read
  std::this_thread::sleep_for(300ms);
  long got = w.drain_to_eof(3000);
  EXPECT_GE(got, 0) << "still connected";
  EXPECT_LT(got, 64 * (16 * 1024 + 1));
  EXPECT_EQ(ask(path_, "status"), status_line);
}

TEST_F(control_pipe, RequestOver64KBIsRefused) {
  start();
  auto r = control_request(path_, std::string(64 * 1024, 'x'), 2000);  // exactly the limit
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, "65536");
  r = control_request(path_, std::string(64 * 1024 + 1, 'x'), 2000);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, too_long_line);
  raw_client c(path_);  // without a newline at all: refused as soon as it passes the limit
  ASSERT_TRUE(c.send(std::string(70000, 'x')));
  auto t0 = clock_type::now();
  EXPECT_EQ(c.line(1000), too_long_line);
  EXPECT_LT(ms_since(t0), 500);
  EXPECT_EQ(calls_, 1);
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

TEST_F(control_pipe, SixtyFifthClientIsRefusedWhile64AreHeld) {
  start();
  std::vector<std::unique_ptr<raw_client>> held;
  for (size_t i = 0; i < drover::platform::control_max_clients; ++i) {
    held.push_back(std::make_unique<raw_client>(path_));
    ASSERT_TRUE(held.back()->ok()) << "watcher " << i;
    ASSERT_TRUE(held.back()->send("watch\n"));
    ASSERT_EQ(held.back()->line(1000), status_line) << "watcher " << i;
  }
  EXPECT_EQ(ask(path_, "status"), too_many_line);
  held.pop_back();  // a slot frees as soon as its client goes
  EXPECT_TRUE(eventually([&] { return ask(path_, "status") == status_line; }, 1000ms));
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
