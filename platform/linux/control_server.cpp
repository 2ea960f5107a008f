#include "platform/control_socket.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "platform/linux/control_common.hpp"
#include "platform/unique_fd.hpp"

namespace drover::platform {
namespace {

using stream = asio::local::stream_protocol;

using control_detail::denied_reply;
using control_detail::fill_addr;

constexpr const char* too_long_reply = R"j({"error":"request too long (limit 64 KB)"})j";
constexpr const char* too_many_reply = R"j({"error":"too many control clients (64)"})j";
constexpr const char* unanswered_reply = R"({"error":"internal error: the request got no answer"})";
// A client that does not read its (possibly large, `dump`) answer must not
// hold a slot for ever.
constexpr auto reply_flush_timeout = std::chrono::seconds(5);

std::optional<uint32_t> group_id(const std::string& name) {
  std::vector<char> buf(1024);
  group gr{};
  group* found = nullptr;
  int rc;
  while ((rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0 || found == nullptr) return std::nullopt;
  return found->gr_gid;
}

// The peer's groups as of its connect(); /proc (its groups now) only where the
// kernel lacks SO_PEERGROUPS (before 4.13).
std::vector<uint32_t> peer_groups(int fd, pid_t pid) {
  std::vector<gid_t> g(64);
  socklen_t len = static_cast<socklen_t>(g.size() * sizeof(gid_t));
  int rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g.data(), &len);
  if (rc < 0 && errno == ERANGE) {
    g.resize(len / sizeof(gid_t));
    rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g.data(), &len);
  }
  std::vector<uint32_t> out;
  if (rc == 0) return std::vector<uint32_t>(g.begin(), g.begin() + len / sizeof(gid_t));
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("Groups:", 0) != 0) continue;
    std::istringstream is(line.substr(7));
    for (uint32_t v; is >> v;) out.push_back(v);
  }
  return out;
}

bool peer_allowed(int fd, std::optional<uint32_t> drover_gid, bool& is_root) {
  ucred cr{};
  socklen_t len = sizeof cr;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) return false;
  is_root = cr.uid == 0;
  bool need_groups = cr.uid != 0 && drover_gid && cr.gid != *drover_gid;
  return control_peer_allowed(cr.uid, cr.gid, need_groups ? peer_groups(fd, cr.pid) : std::vector<uint32_t>{},
                              drover_gid);
}

// A refused client gets its reason without the server ever waiting on it: the
// line fits the fresh socket's buffer, or is lost.
void refuse(unique_fd fd, const std::string& why) {
  std::string line = why + "\n";
  (void)!::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

bool control_peer_allowed(uint32_t uid, uint32_t gid, const std::vector<uint32_t>& groups,
                          std::optional<uint32_t> drover_gid) {
  if (uid == 0) return true;
  if (!drover_gid) return false;
  return gid == *drover_gid || std::find(groups.begin(), groups.end(), *drover_gid) != groups.end();
}

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

  // Destroyed in reverse: the clients close while the io_context still exists.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  stream::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::shared_ptr<gate> entry;
  handler on_request;
  std::optional<uint32_t> group_gid;
  std::set<std::shared_ptr<connection>> clients;

  void accept_next();
  void retry_accept();
  void admit(unique_fd fd);
  void publish(const std::string& line);
};

template <class F>
void control_server::gate::run(F f) {
  std::lock_guard<std::mutex> g(mu);
  if (live) asio::post(live->io, [c = live, f = std::move(f)]() mutable { f(*c); });
}

struct control_server::core::connection : std::enable_shared_from_this<connection> {
  enum class phase { reading, waiting, replying, watching, closed };

  connection(core& c, unique_fd fd) : owner(c), sock(c.io), deadline(c.io) {
    asio::error_code ec;
    sock.assign(stream(), fd.get(), ec);
    if (!ec) fd.release();  // else closed here; the first read then fails and closes
  }

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
    sock.async_read_some(asio::buffer(buf),
                         [self = shared_from_this()](asio::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(asio::error_code ec, std::size_t n) {
    if (state == phase::closed) return;
    if (ec) {
      // A client that half-closed after its request still gets the answer,
      // also when its end of input ended the line (`printf status | nc -U`).
      if (ec == asio::error::eof && !watcher && state != phase::reading) return;
      if (ec == asio::error::eof && state == phase::reading && !line.empty() && line != "watch") return dispatch();
      close();
      return;
    }
    if (state == phase::reading) {
      line.append(buf.data(), n);
      auto nl = line.find('\n');
      if ((nl == std::string::npos ? line.size() : nl) > control_max_request) {
        state = phase::replying;
        close_when_flushed = true;
        queue(std::string(too_long_reply) + "\n");
        return;
      }
      if (nl != std::string::npos) {
        line.resize(nl);
        dispatch();
        if (state == phase::closed) return;
      }
    }
    read();  // anything after the request line is ignored
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
      // The handler runs on the io thread: an exception must not end the
      // channel for everyone.
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
    if (pending + l.size() + 1 > control_max_watch_backlog) {
      close();  // it does not read: drop it rather than buffer without end
      return;
    }
    if (state == phase::waiting) {
      held.push_back(l + "\n");  // after the watcher's first line, in order
      pending += l.size() + 1;
    } else {
      queue(l + "\n");
    }
  }

  void queue(std::string s) {
    if (state == phase::closed) return;
    pending += s.size();
    out.push_back(std::move(s));
    if (!writing) write_next();
  }

  void write_next() {
    if (out.empty()) {
      writing = false;
      if (close_when_flushed) close();
      return;
    }
    writing = true;
    // deque::push_back keeps element addresses: the buffer stays valid.
    asio::async_write(sock, asio::buffer(out.front()), [self = shared_from_this()](asio::error_code ec, std::size_t) {
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
    sock.close(ec);
    deadline.cancel();
    owner.clients.erase(shared_from_this());
  }

  core& owner;
  stream::socket sock;
  asio::steady_timer deadline;
  std::array<char, 4096> buf{};
  std::string line;
  phase state = phase::reading;
  bool watcher = false;
  bool writing = false;
  bool close_when_flushed = false;
  std::deque<std::string> out;
  std::vector<std::string> held;
  std::size_t pending = 0;  // bytes queued (out + held), not yet taken by the kernel
};

void control_server::core::reply_state::send(std::string s) {
  if (used.exchange(true)) return;
  to->run([c = conn, s = std::move(s)](core&) mutable {
    if (auto p = c.lock()) p->deliver(std::move(s));
  });
}

void control_server::core::accept_next() {
  acceptor.async_wait(stream::acceptor::wait_read, [this](asio::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) return retry_accept();
    // accept4 rather than asio's accept: the descriptor is close-on-exec from
    // the start (the engine runs iptables).
    for (int i = 0; i < 64; ++i) {
      unique_fd fd(::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (fd) {
        admit(std::move(fd));
        continue;
      }
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) break;
      return retry_accept();  // out of descriptors: the client waits in the backlog
    }
    accept_next();
  });
}

// Later, not at once: the listening socket stays readable, so an immediate
// retry would spin.
void control_server::core::retry_accept() {
  accept_retry.expires_after(std::chrono::milliseconds(100));
  accept_retry.async_wait([this](asio::error_code e) {
    if (!e) accept_next();
  });
}

void control_server::core::admit(unique_fd fd) {
  bool root = false;
  if (!peer_allowed(fd.get(), group_gid, root)) return refuse(std::move(fd), denied_reply);
  // A few slots beyond the limit are root's: group members holding all 64
  // (watchers, say) must not lock `sudo drover stop` out.
  if (clients.size() >= control_max_clients + (root ? control_root_reserve : 0))
    return refuse(std::move(fd), too_many_reply);
  auto c = std::make_shared<connection>(*this, std::move(fd));
  clients.insert(c);
  c->start();
}

void control_server::core::publish(const std::string& line) {
  for (auto it = clients.begin(); it != clients.end();) {
    auto c = *it++;  // push() may close c, which erases it
    c->push(line);
  }
}

control_server::control_server() : gate_(std::make_shared<gate>()) {}
control_server::~control_server() { stop(); }

status control_server::listen(const std::string& path, const std::string& group) {
  sockaddr_un sa;
  if (!fill_addr(path, sa))
    return make_error("control", "control socket path too long (" + std::to_string(path.size()) + " bytes, at most " +
                                     std::to_string(sizeof sa.sun_path - 1) + "): " + path);
  if (core_) return make_error("control", "the control server listens already");
  auto probe = control_request(path, "ping", 500);
  if (probe.ok())
    return make_error("instance_running",
                      "another drover instance already answers on " + path +
                          " (an engine in another network namespace? each needs its own XDG_RUNTIME_DIR)");
  // Accepting but not answering is still somebody's socket: only a refused
  // (stale) or missing one is ours to replace.
  if (probe.err().code != "no_instance")
    return make_error("instance_running",
                      "something listens on " + path + " and does not answer: " + probe.err().message);
  ::unlink(path.c_str());
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return make_error("control", std::string("socket: ") + std::strerror(errno));
  // bind() creates the file through the umask: 0600 from its first moment,
  // widened to 0660 only once the drover group owns it.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::umask(old);
  if (rc < 0) return make_error("control", "cannot listen on " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    path_ = path;  // ours from here on: stop() removes it
    inode_ = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }
  if (::listen(fd.get(), SOMAXCONN) < 0)
    return make_error("control", "cannot listen on " + path + ": " + std::strerror(errno));
  auto gid = group_id(group);
  if (gid && ::lchown(path.c_str(), static_cast<uid_t>(-1), *gid) == 0) ::chmod(path.c_str(), 0660);
  core_ = std::make_shared<core>();
  core_->group_gid = gid;
  core_->entry = gate_;
  asio::error_code ec;
  core_->acceptor.assign(stream(), fd.get(), ec);
  if (!ec) fd.release();
  if (ec) return make_error("control", "cannot listen on " + path + ": " + ec.message());
  return ok();
}

void control_server::serve(handler h) {
  if (!core_ || thread_.joinable()) return;
  core_->on_request = std::move(h);
  core_->accept_next();
  {
    std::lock_guard<std::mutex> g(gate_->mu);
    gate_->live = core_.get();
  }
  thread_ = std::thread([c = core_.get()] { c->io.run(); });
}

void control_server::publish(const std::string& line) {
  gate_->run([line](core& c) { c.publish(line); });
}

void control_server::stop() {
  // The name first, and only if it is still our socket: once it is gone a new
  // instance may bind it, and that one's socket must survive our shutdown.
  struct stat st {};
  if (!path_.empty() && ::lstat(path_.c_str(), &st) == 0 &&
      inode_ == std::pair<uint64_t, uint64_t>{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)})
    ::unlink(path_.c_str());
  path_.clear();
  {
    std::lock_guard<std::mutex> g(gate_->mu);
    gate_->live = nullptr;  // late replies and publishes are dropped
    if (core_) core_->io.stop();
  }
  if (thread_.joinable()) thread_.join();
  core_.reset();
}

}  // namespace drover::platform
