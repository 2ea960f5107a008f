#pragma once
// Internal to platform/linux/control_server.cpp and platform/windows/
// control_server.cpp: one client of the control channel, from its request line
// to its close, the same over a Unix socket and a named pipe. Each server keeps
// its transport (the listening socket, the pipe instances), its limit of
// clients and its peer checks. docs/control-protocol.md gives the protocol. A
// named namespace, not an unnamed one, because this is a header.
#include <asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "platform/control_socket.hpp"

namespace drover::platform::control_detail {

inline constexpr const char* too_long_reply = R"j({"error":"request too long (limit 64 KB)"})j";
inline constexpr const char* too_many_reply = R"j({"error":"too many control clients (64)"})j";
inline constexpr const char* unanswered_reply = R"({"error":"internal error: the request got no answer"})";
inline constexpr const char* failed_reply = R"({"error":"internal error"})";
// A client that does not read its (possibly large, `dump`) answer must not
// hold a slot for ever.
inline constexpr auto reply_flush_timeout = std::chrono::seconds(5);

template <class Transport>
class sessions;

/// How other threads reach the io thread. The server forgets its sessions
/// here (under the mutex) before they are destroyed.
template <class Transport>
struct session_gate {
  std::mutex mu;
  sessions<Transport>* live = nullptr;
  /// Runs `f(sessions&)` on the io thread; dropped once the server stopped.
  template <class F>
  void run(F f) {
    std::lock_guard<std::mutex> g(mu);
    if (live) asio::post(live->io, [s = live, f = std::move(f)]() mutable { f(*s); });
  }
};

/// One client: its request line read within control_max_request and
/// control_request_timeout_ms of its connect, handed to the handler, the
/// answer written, then closed; a watcher stays and gets every published line.
/// `Transport` names the Asio stream (`stream`) and how its input ends:
/// `half_close` (a client may shut down its sending side and still read the
/// answer) and `strip_cr` (a CR before the newline is not part of the request).
template <class Transport>
class session : public std::enable_shared_from_this<session<Transport>> {
 public:
  using stream = typename Transport::stream;

  session(sessions<Transport>& owner, stream s, bool counted)
      : owner_(owner), stream_(std::move(s)), deadline_(owner.io), counted_(counted) {}

  void start() {
    arm(std::chrono::milliseconds(control_request_timeout_ms));
    read();
  }

  /// Answers `reply` without reading anything and closes.
  void reply_and_close(const char* reply) {
    state_ = phase::replying;
    close_when_flushed_ = true;
    arm(reply_flush_timeout);
    queue(std::string(reply) + "\n");
  }

  /// A published line, for a watcher.
  void push(const std::string& l) {
    if (!watcher_ || (state_ != phase::waiting && state_ != phase::watching)) return;
    if (pending_ + l.size() + 1 > control_max_watch_backlog) return close();  // it does not read: drop it
    if (state_ == phase::watching) return queue(l + "\n");
    held_.push_back(l + "\n");  // after the watcher's first line, in order
    pending_ += l.size() + 1;
  }

  void close() {
    if (state_ == phase::closed) return;
    state_ = phase::closed;
    asio::error_code ec;
    stream_.cancel(ec);
    stream_.close(ec);
    deadline_.cancel();
    owner_.live_.erase(this->shared_from_this());
  }

  /// False for a newcomer that is only told it is over the limit.
  bool counted() const { return counted_; }

 private:
  enum class phase { reading, waiting, replying, watching, closed };

  // Shared by the copies of one reply_fn: the first call wins.
  struct reply_state {
    std::shared_ptr<session_gate<Transport>> to;
    std::weak_ptr<session> conn;
    std::atomic<bool> used{false};
    void send(std::string s) {
      if (used.exchange(true)) return;
      to->run([c = conn, s = std::move(s)](sessions<Transport>&) mutable {
        if (auto p = c.lock()) p->deliver(std::move(s));
      });
    }
    ~reply_state() { send(unanswered_reply); }
  };

  void arm(std::chrono::steady_clock::duration d) {
    deadline_.expires_after(d);
    deadline_.async_wait([self = this->shared_from_this()](asio::error_code ec) {
      if (!ec && (self->state_ == phase::reading || self->state_ == phase::replying)) self->close();
    });
  }

  // A read stays pending all along, so a client that goes away is closed at
  // once, not at the next publish.
  void read() {
    stream_.async_read_some(asio::buffer(buf_), [self = this->shared_from_this()](asio::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(asio::error_code ec, std::size_t n) {
    if (state_ == phase::closed) return;
    if (ec) {
      if constexpr (Transport::half_close) {
        // A client that half-closed after its request still gets the answer,
        // also when its end of input ended the line (`printf status | nc -U`).
        if (ec == asio::error::eof && !watcher_ && state_ != phase::reading) return;
        if (ec == asio::error::eof && state_ == phase::reading && !line_.empty() && line_ != "watch") return dispatch();
      }
      return close();
    }
    if (state_ == phase::reading) {
      line_.append(buf_.data(), n);
      auto nl = line_.find('\n');
      if ((nl == std::string::npos ? line_.size() : nl) > control_max_request) return reply_and_close(too_long_reply);
      if (nl != std::string::npos) {
        line_.resize(nl);
        if (Transport::strip_cr && !line_.empty() && line_.back() == '\r') line_.pop_back();
        dispatch();
        if (state_ == phase::closed) return;
      }
    }
    read();  // anything after the request line is ignored
  }

  void dispatch() {
    deadline_.cancel();
    state_ = phase::waiting;
    watcher_ = line_ == "watch";
    auto st = std::make_shared<reply_state>();
    st->to = owner_.gate;
    st->conn = this->weak_from_this();
    try {
      owner_.on_request(watcher_ ? std::string("status") : line_, [st](std::string s) { st->send(std::move(s)); });
    } catch (...) {
      // The handler runs on the io thread: an exception must not end the
      // channel for everyone.
      st->send(failed_reply);
    }
  }

  void deliver(std::string s) {
    if (state_ != phase::waiting) return;
    queue(std::move(s) + "\n");
    if (watcher_) {
      state_ = phase::watching;
      for (auto& h : held_) {
        pending_ -= h.size();  // counted again by queue()
        queue(std::move(h));
      }
      held_.clear();
    } else {
      state_ = phase::replying;
      close_when_flushed_ = true;
      arm(reply_flush_timeout);
    }
  }

  void queue(std::string s) {
    if (state_ == phase::closed) return;
    pending_ += s.size();
    out_.push_back(std::move(s));
    if (!writing_) write_next();
  }

  // Closing once the last write completed keeps the answer: the client still
  // reads what was written before the server's end closed.
  void write_next() {
    if (out_.empty()) {
      writing_ = false;
      if (close_when_flushed_) close();
      return;
    }
    writing_ = true;
    // deque::push_back keeps element addresses: the buffer stays valid.
    asio::async_write(stream_, asio::buffer(out_.front()),
                      [self = this->shared_from_this()](asio::error_code ec, std::size_t) {
                        if (self->state_ == phase::closed) return;
                        if (ec) return self->close();
                        self->pending_ -= self->out_.front().size();
                        self->out_.pop_front();
                        self->write_next();
                      });
  }

  sessions<Transport>& owner_;
  stream stream_;
  asio::steady_timer deadline_;
  bool counted_;
  std::array<char, 4096> buf_{};
  std::string line_;
  phase state_ = phase::reading;
  bool watcher_ = false;
  bool writing_ = false;
  bool close_when_flushed_ = false;
  std::deque<std::string> out_;
  std::vector<std::string> held_;
  std::size_t pending_ = 0;  // bytes queued (out_ + held_), not yet taken by the OS
};

/// The clients of one server, owned by its io thread (member of the server's
/// state, after its io_context: they close while it still exists).
template <class Transport>
class sessions {
 public:
  using stream = typename Transport::stream;

  explicit sessions(asio::io_context& context) : io(context) {}

  /// Serves a client that was let in.
  void serve(stream s) { add(std::move(s), true)->start(); }
  /// Answers `reply` and closes; the client does not count toward the limit.
  void turn_away(stream s, const char* reply) { add(std::move(s), false)->reply_and_close(reply); }
  /// The clients that count toward the limit.
  std::size_t served() const {
    std::size_t n = 0;
    for (auto& c : live_) n += c->counted() ? 1 : 0;
    return n;
  }
  /// A line for every watcher.
  void publish(const std::string& line) {
    for (auto it = live_.begin(); it != live_.end();) {
      auto c = *it++;  // push() may close c, which erases it
      c->push(line);
    }
  }
  /// Closes every client (its pending operations end, aborted).
  void close_all() {
    auto all = live_;
    for (auto& c : all) c->close();
  }

  asio::io_context& io;
  std::shared_ptr<session_gate<Transport>> gate;  // what the replies go through
  control_server::handler on_request;             // runs on the io thread

 private:
  friend class session<Transport>;
  std::shared_ptr<session<Transport>> add(stream s, bool counted) {
    auto c = std::make_shared<session<Transport>>(*this, std::move(s), counted);
    live_.insert(c);
    return c;
  }
  std::set<std::shared_ptr<session<Transport>>> live_;
};

}  // namespace drover::platform::control_detail
