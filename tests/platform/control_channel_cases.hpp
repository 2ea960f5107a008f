#pragma once
// The control channel's behaviour that is the same on both OSes (Unix
// socket, named pipe), written once as typed tests. Each OS's test file
// gives a fixture deriving from control_channel_test with
//   using client = <its raw protocol client>;  // ok(), send(), line(ms), drain_to_eof(ms)
//   static constexpr size_t slots;             // clients it serves at once
//   static constexpr long quick_ms;            // "answered at once" on that OS
//   void SetUp();                              // path_ for a fresh channel
//   void start();                              // listen on path_, then serve()
// and instantiates the cases with INSTANTIATE_TYPED_TEST_SUITE_P.
#include <gtest/gtest.h>

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

namespace control_cases {

using namespace std::chrono_literals;
using drover::platform::control_request;
using drover::platform::control_server;
using drover::platform::control_watch;
using clock_type = std::chrono::steady_clock;

inline const std::string status_line = R"({"state":"Idle"})";
inline const std::string too_many_line = R"j({"error":"too many control clients (64)"})j";
inline const std::string too_long_line = R"j({"error":"request too long (limit 64 KB)"})j";

inline long ms_since(clock_type::time_point t0) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
}

// The answer, or the error as "<code: message>".
inline std::string ask(const std::string& path, const std::string& request, int timeout_ms = 1000) {
  auto r = control_request(path, request, timeout_ms);
  return r ? *r : "<" + r.err().code + ": " + r.err().message + ">";
}

// Polls `pred` every 10 ms for at most `limit`.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto until = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The line reading both raw protocol clients do, over their OS's
// read_some(p, len, ms): the bytes read, 0 at the end of the stream (the
// server closed), -1 when nothing came within `ms`.
template <class Client>
class line_client {
 public:
  /// One line within `timeout_ms`; nothing on timeout or end of stream.
  std::optional<std::string> line(int timeout_ms) {
    auto t0 = clock_type::now();
    while (buf_.find('\n') == std::string::npos) {
      char chunk[65536];
      long n = self().read_some(chunk, sizeof chunk, timeout_ms - ms_since(t0));
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<size_t>(n));
    }
    auto nl = buf_.find('\n');
    std::string l = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    return l;
  }
  /// Reads and discards until the server closes; the bytes read, or -1 if it
  /// did not close within `timeout_ms`.
  long drain_to_eof(int timeout_ms) {
    auto t0 = clock_type::now();
    long total = 0;
    for (;;) {
      char chunk[65536];
      long n = self().read_some(chunk, sizeof chunk, timeout_ms - ms_since(t0));
      if (n == 0) return total;
      if (n < 0) return -1;
      total += n;
    }
  }

 private:
  Client& self() { return static_cast<Client&>(*this); }
  std::string buf_;
};

// A server on path_ whose handler answers the requests the cases send.
class control_channel_test : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.stop();  // first: no handler runs after this
    for (auto& t : workers_) t.join();
    held_.clear();
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

template <class Channel>
class control_channel : public Channel {};
TYPED_TEST_SUITE_P(control_channel);

TYPED_TEST_P(control_channel, RequestOver64KBIsRefused) {
  this->start();
  const auto& path = this->path_;
  auto r = control_request(path, std::string(64 * 1024, 'x'), 2000);  // exactly the limit
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, "65536");
  r = control_request(path, std::string(64 * 1024 + 1, 'x'), 2000);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, too_long_line);
  // Without a newline at all: refused as soon as it passes the limit.
  typename TypeParam::client c(path);
  ASSERT_TRUE(c.send(std::string(70000, 'x')));
  auto t0 = clock_type::now();
  EXPECT_EQ(c.line(1000), too_long_line);
  EXPECT_LT(ms_since(t0), 500);
  EXPECT_EQ(this->calls_, 1);
}

TYPED_TEST_P(control_channel, SixtyFifthClientIsRefusedWhileTheSlotsAreHeld) {
  this->start();
  std::vector<std::unique_ptr<typename TypeParam::client>> held;
  for (size_t i = 0; i < TypeParam::slots; ++i) {
    held.push_back(std::make_unique<typename TypeParam::client>(this->path_));
    ASSERT_TRUE(held.back()->ok()) << "watcher " << i;
    ASSERT_TRUE(held.back()->send("watch\n"));
    ASSERT_EQ(held.back()->line(1000), status_line) << "watcher " << i;
  }
  EXPECT_EQ(ask(this->path_, "status"), too_many_line);
  held.pop_back();  // a slot frees as soon as its client goes
  EXPECT_TRUE(eventually([&] { return ask(this->path_, "status") == status_line; }, 1000ms));
}

TYPED_TEST_P(control_channel, WatcherGetsPublishedLines) {
  this->start();
  std::mutex mu;
  std::vector<std::string> lines;
  std::promise<void> first, done;
  std::thread watch([&] {
    auto st = control_watch(this->path_, [&](const std::string& l) {
      std::lock_guard<std::mutex> g(mu);
      lines.push_back(l);
      if (lines.size() == 1) first.set_value();
      return lines.size() < 3;
    });
    EXPECT_TRUE(st.ok());
    done.set_value();
  });
  EXPECT_EQ(first.get_future().wait_for(2s), std::future_status::ready);
  std::thread([&] { this->server_.publish(R"({"n":1})"); }).join();  // from any thread
  this->server_.publish(R"({"n":2})");
  if (done.get_future().wait_for(2s) != std::future_status::ready) this->server_.stop();  // unblocks the watcher
  watch.join();
  EXPECT_EQ(lines, (std::vector<std::string>{status_line, R"({"n":1})", R"({"n":2})"}));
}

TYPED_TEST_P(control_channel, WatcherThatDoesNotReadIsDropped) {
  this->start();
  typename TypeParam::client w(this->path_);
  ASSERT_TRUE(w.send("watch\n"));
  ASSERT_EQ(w.line(1000), status_line);
  const std::string big(16 * 1024, 'p');
  for (int i = 0; i < 64; ++i) this->server_.publish(big);  // 1 MB it does not read
  std::this_thread::sleep_for(300ms);
  long got = w.drain_to_eof(3000);
  EXPECT_GE(got, 0) << "still connected";
  EXPECT_LT(got, 64 * (16 * 1024 + 1));
  EXPECT_EQ(ask(this->path_, "status"), status_line);
}

TYPED_TEST_P(control_channel, AsyncReplyFromAnotherThreadArrives) {
  this->start();
  auto slow = std::async(std::launch::async, [&] {
    auto t0 = clock_type::now();
    auto answer = ask(this->path_, "slow", 3000);
    return std::make_pair(answer, ms_since(t0));
  });
  std::this_thread::sleep_for(100ms);
  auto t = clock_type::now();
  EXPECT_EQ(ask(this->path_, "status"), status_line);  // not behind the slow one
  EXPECT_LT(ms_since(t), TypeParam::quick_ms);
  auto [answer, ms] = slow.get();
  EXPECT_EQ(answer, "done");
  EXPECT_GE(ms, 900);
  EXPECT_LT(ms, 2000);
}

REGISTER_TYPED_TEST_SUITE_P(control_channel, RequestOver64KBIsRefused, SixtyFifthClientIsRefusedWhileTheSlotsAreHeld,
                            WatcherGetsPublishedLines, WatcherThatDoesNotReadIsDropped,
                            AsyncReplyFromAnotherThreadArrives);

}  // namespace control_cases
