// Windows: the control channel on the named pipe \\.\pipe\drover-<install id>,
// served with overlapped I/O on the server's one thread (Asio's completion
// port). Only this user (and SYSTEM) may open the pipe, with a medium label so
// an unelevated CLI reaches an elevated engine; remote clients are rejected.
#include <asio.hpp>

#include "platform/control_socket.hpp"

#include <windows.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>

#include "platform/windows/user_sid.hpp"

namespace drover::platform {
namespace {

using pipe_stream = asio::windows::stream_handle;

constexpr const char* too_long_reply = R"j({"error":"request too long (limit 64 KB)"})j";
constexpr const char* too_many_reply = R"j({"error":"too many control clients (64)"})j";
constexpr const char* unanswered_reply = R"({"error":"internal error: the request got no answer"})";
// A client that does not read its (possibly large, `dump`) answer must not hold a slot for ever.
constexpr auto reply_flush_timeout = std::chrono::seconds(5);
constexpr DWORD pipe_buffer = 64 * 1024;
// Instances waiting for a client: a burst of clients seldom finds all busy
// (a busy one makes the client wait in WaitNamedPipeW, not fail).
constexpr std::size_t idle_instances = 4;

HANDLE create_instance(const std::wstring& name, void* sd, bool first) {
  SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
  return ::CreateNamedPipeW(name.c_str(), open_mode,
                            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                            PIPE_UNLIMITED_INSTANCES, pipe_buffer, pipe_buffer, 0, &sa);
}

}  // namespace

// Everything the io thread owns. Other threads reach it only through the
// gate, which forgets it (under its mutex) before it is destroyed.
struct control_server::gate {
  std::mutex mu;
  core* live = nullptr;
  template <class F>
  void run(F f);
};

struct control_server::core {
  struct connection;
  // Shared by the copies of one reply_fn: the first call wins.
  struct reply_state {
    std::shared_ptr<gate> to;
    std::weak_ptr<connection> conn;
    std::atomic<bool> used{false};
    void send(std::string s);
    ~reply_state() { send(unanswered_reply); }
  };

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  asio::steady_timer retry{io};
  std::shared_ptr<gate> entry;
  handler on_request;
  std::wstring name;
  win::security_descriptor sd;
  std::set<std::shared_ptr<pipe_stream>> idle;  // instances waiting for a client
  std::set<std::shared_ptr<connection>> clients;
  bool stopping = false;

  void wait_client(const std::shared_ptr<pipe_stream>& p);
  void add_instances();
  void retry_later();
  void admit(pipe_stream p);
  void publish(const std::string& line);
  void close_all();
};

template <class F>
void control_server::gate::run(F f) {
  std::lock_guard<std::mutex> g(mu);
  if (live) asio::post(live->io, [c = live, f = std::move(f)]() mutable { f(*c); });
}

struct control_server::core::connection : std::enable_shared_from_this<connection> {
  enum class phase { reading, waiting, replying, watching, closed };

  connection(core& c, pipe_stream p, bool counts) : owner(c), pipe(std::move(p)), deadline(c.io), counted(counts) {}

  void start() {
    arm(std::chrono::milliseconds(control_request_timeout_ms));
    read();
  }

  void arm(std::chrono::steady_clock::duration d) {
    deadline.expires_after(d);
    deadline.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (!ec && (self->state == phase::reading || self->state == phase::replying)) self->close();
    });
  }

  // A read stays pending all along, so a client that goes away is closed at
  // once, not at the next publish.
  void read() {
    pipe.async_read_some(asio::buffer(buf),
                         [self = shared_from_this()](asio::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(asio::error_code ec, std::size_t n) {
    if (state == phase::closed) return;
    if (ec) return close();  // a pipe has no half-close: an error means the client is gone
    if (state == phase::reading) {
      line.append(buf.data(), n);
      auto nl = line.find('\n');
      if ((nl == std::string::npos ? line.size() : nl) > control_max_request) return reply_and_close(too_long_reply);
      if (nl != std::string::npos) {
        line.resize(nl);
        if (!line.empty() && line.back() == '\r') line.pop_back();  // `echo status` from cmd ends in CRLF
        dispatch();
        if (state == phase::closed) return;
      }
    }
    read();  // anything after the request line is ignored
  }

  void reply_and_close(const char* reply) {
    state = phase::replying;
    close_when_flushed = true;
    arm(reply_flush_timeout);
    queue(std::string(reply) + "\n");
  }

  void dispatch() {
    deadline.cancel();
    state = phase::waiting;
    watcher = line == "watch";
    auto st = std::make_shared<reply_state>();
    st->to = owner.entry;
    st->conn = weak_from_this();
    try {
      owner.on_request(watcher ? std::string("status") : line, [st](std::string s) { st->send(std::move(s)); });
    } catch (...) {
      // The handler runs on the io thread: an exception must not end the channel for everyone.
      st->send(R"({"error":"internal error"})");
    }
  }

  void deliver(std::string s) {
    if (state != phase::waiting) return;
    queue(std::move(s) + "\n");
    if (watcher) {
      state = phase::watching;
      for (auto& h : held) {
        pending -= h.size();  // counted again by queue()
        queue(std::move(h));
      }
      held.clear();
    } else {
      state = phase::replying;
      close_when_flushed = true;
      arm(reply_flush_timeout);
    }
  }

  void push(const std::string& l) {
    if (!watcher || (state != phase::waiting && state != phase::watching)) return;
    if (pending + l.size() + 1 > control_max_watch_backlog) return close();  // it does not read: drop it
    if (state == phase::watching) return queue(l + "\n");
    held.push_back(l + "\n");  // after the watcher's first line, in order
    pending += l.size() + 1;
  }

  void queue(std::string s) {
    if (state == phase::closed) return;
    pending += s.size();
    out.push_back(std::move(s));
    if (!writing) write_next();
  }

  // Closing once the last write completed keeps the answer: a pipe's client
  // still reads what was written before the server end closed.
  void write_next() {
    if (out.empty()) {
      writing = false;
      if (close_when_flushed) close();
      return;
    }
    writing = true;
    // deque::push_back keeps element addresses: the buffer stays valid.
    asio::async_write(pipe, asio::buffer(out.front()), [self = shared_from_this()](asio::error_code ec, std::size_t) {
      if (self->state == phase::closed) return;
      if (ec) return self->close();
      self->pending -= self->out.front().size();
      self->out.pop_front();
      self->write_next();
    });
  }

  void close() {
    if (state == phase::closed) return;
    state = phase::closed;
    asio::error_code ec;
    pipe.cancel(ec);
    pipe.close(ec);
    deadline.cancel();
    owner.clients.erase(shared_from_this());
  }

  core& owner;
  pipe_stream pipe;
  asio::steady_timer deadline;
  bool counted;  // false for a newcomer refused over the limit
  std::array<char, 4096> buf{};
  std::string line;
  phase state = phase::reading;
  bool watcher = false;
  bool writing = false;
  bool close_when_flushed = false;
  std::deque<std::string> out;
  std::vector<std::string> held;
  std::size_t pending = 0;  // bytes queued (out + held), not yet taken by the pipe
};

void control_server::core::reply_state::send(std::string s) {
  if (used.exchange(true)) return;
  to->run([c = conn, s = std::move(s)](core&) mutable {
    if (auto p = c.lock()) p->deliver(std::move(s));
  });
}

void control_server::core::wait_client(const std::shared_ptr<pipe_stream>& p) {
  idle.insert(p);
  asio::windows::overlapped_ptr ov(io, [this, p](asio::error_code ec, std::size_t) {
    idle.erase(p);
    if (stopping) return;
    if (!ec) admit(std::move(*p));
    // ERROR_NO_DATA: the client came and went before we saw it. Anything
    // else may fail again at once: later, not in a loop.
    if (!ec || ec.value() == ERROR_NO_DATA)
      add_instances();
    else
      retry_later();
  });
  BOOL done = ::ConnectNamedPipe(p->native_handle(), ov.get());
  DWORD e = ::GetLastError();
  if (!done && e == ERROR_PIPE_CONNECTED)  // connected before we asked: no completion will come
    ov.complete(asio::error_code(), 0);
  else if (!done && e != ERROR_IO_PENDING)
    ov.complete(asio::error_code(static_cast<int>(e), asio::system_category()), 0);
  else
    ov.release();
}

// Out of handles or memory: try again later rather than spin; clients wait
// in WaitNamedPipeW meanwhile.
void control_server::core::add_instances() {
  while (!stopping && idle.size() < idle_instances) {
    HANDLE h = create_instance(name, sd.get(), false);
    if (h == INVALID_HANDLE_VALUE) return retry_later();
    auto p = std::make_shared<pipe_stream>(io);
    asio::error_code ec;
    p->assign(h, ec);
    if (ec) {
      ::CloseHandle(h);
      return retry_later();
    }
    wait_client(p);
  }
}

void control_server::core::retry_later() {
  retry.expires_after(std::chrono::milliseconds(100));
  retry.async_wait([this](asio::error_code e) {
    if (!e) add_instances();
  });
}

void control_server::core::admit(pipe_stream p) {
  std::size_t served = 0;
  for (auto& c : clients) served += c->counted ? 1 : 0;
  bool over = served >= control_max_clients;
  auto c = std::make_shared<connection>(*this, std::move(p), !over);
  clients.insert(c);
  if (over) return c->reply_and_close(too_many_reply);
  c->start();
}

void control_server::core::publish(const std::string& line) {
  for (auto it = clients.begin(); it != clients.end();) {
    auto c = *it++;  // push() may close c, which erases it
    c->push(line);
  }
}

// Closing every handle completes every pending operation (aborted): then the
// io_context runs out of work and its thread ends by itself.
void control_server::core::close_all() {
  stopping = true;
  retry.cancel();
  for (auto& p : idle) {
    asio::error_code ec;
    p->cancel(ec);
    p->close(ec);
  }
  auto all = clients;
  for (auto& c : all) c->close();
}

control_server::control_server() : gate_(std::make_shared<gate>()) {}
control_server::~control_server() { stop(); }

status control_server::listen(const std::string& path, const std::string& /*group*/) {
  if (core_) return make_error("control", "the control server listens already");
  if (path.rfind("\\\\.\\pipe\\", 0) != 0) return make_error("control", "not a pipe name: " + path);
  // Asked first: Wine does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE, and an
  // answer tells a running Drover from someone else's pipe.
  auto probe = control_request(path, "ping", 500);
  if (probe.ok()) return make_error("instance_running", "another Drover already answers on " + path);
  if (probe.err().code != "no_instance")
    return make_error("control", "cannot listen on " + path +
                                     ": another program holds this pipe name and does not "
                                     "answer as Drover (" +
                                     probe.err().message + "); end it and start again");
  const auto& me = win::current_user_sid();
  if (me.empty()) return make_error("control", "cannot listen on " + path + ": this process's user is unknown");
  auto sd = win::security_descriptor::from_sddl("D:P(A;;GA;;;" + me + ")(A;;GA;;;SY)S:(ML;;NW;;;ME)");
  if (!sd) return sd.err();
  auto c = std::make_shared<core>();
  c->name = win::to_wide(path);
  HANDLE h = create_instance(c->name, sd->get(), true);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD e = ::GetLastError();
    if (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY)
      return make_error("control", "cannot listen on " + path + ": another program created this pipe first (" +
                                       win::error_text(e) + "); end it and start again");
    return make_error("control", "cannot listen on " + path + ": " + win::error_text(e));
  }
  auto first = std::make_shared<pipe_stream>(c->io);
  asio::error_code ec;
  first->assign(h, ec);
  if (ec) {
    ::CloseHandle(h);
    return make_error("control", "cannot listen on " + path + ": " + ec.message());
  }
  // Clients may connect to this instance already; they are served from serve() on.
  c->idle.insert(first);
  c->sd = std::move(*sd);
  c->entry = gate_;
  core_ = std::move(c);
  path_ = path;
  return ok();
}

void control_server::serve(handler h) {
  if (!core_ || thread_.joinable()) return;
  core_->on_request = std::move(h);
  {
    std::lock_guard<std::mutex> g(gate_->mu);
    gate_->live = core_.get();
  }
  asio::post(core_->io, [c = core_.get()] {
    auto waiting = c->idle;
    for (auto& p : waiting) c->wait_client(p);
    c->add_instances();
  });
  thread_ = std::thread([c = core_.get()] { c->io.run(); });
}

void control_server::publish(const std::string& line) {
  gate_->run([line](core& c) { c.publish(line); });
}

void control_server::stop() {
  {
    std::lock_guard<std::mutex> g(gate_->mu);
    gate_->live = nullptr;  // late replies and publishes are dropped
  }
  if (core_) {
    asio::post(core_->io, [c = core_.get()] { c->close_all(); });
    core_->work.reset();
    if (thread_.joinable())
      thread_.join();
    else
      core_->io.run();  // listened, never served: close the first instance here
  }
  core_.reset();
  path_.clear();
}

}  // namespace drover::platform
