#include "platform/control_socket.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <asio.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "platform/control_session.hpp"
#include "platform/linux/control_common.hpp"
#include "platform/unique_fd.hpp"

namespace drover::platform {
namespace {

using stream = asio::local::stream_protocol;

// A Unix socket: a client may half-close after its request and still get the
// answer; a CR is part of its line.
struct socket_transport {
  using stream = asio::local::stream_protocol::socket;
  static constexpr bool half_close = true;
  static constexpr bool strip_cr = false;
};

using control_detail::denied_reply;
using control_detail::fill_addr;
using control_detail::too_many_reply;

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

struct control_server::gate : control_detail::session_gate<socket_transport> {};

// Everything the io thread owns. Other threads reach its clients only through
// the gate, which forgets them (under its mutex) before they are destroyed.
struct control_server::core {
  // Destroyed in reverse: the clients close while the io_context still exists.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  stream::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::optional<uint32_t> group_gid;
  control_detail::sessions<socket_transport> clients{io};

  void accept_next();
  void retry_accept();
  void admit(unique_fd fd);
};

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
  if (clients.served() >= control_max_clients + (root ? control_root_reserve : 0))
    return refuse(std::move(fd), too_many_reply);
  stream::socket sock(io);
  asio::error_code ec;
  sock.assign(stream(), fd.get(), ec);
  if (!ec) fd.release();  // else closed here; the first read then fails and closes
  clients.serve(std::move(sock));
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
  core_->clients.gate = gate_;
  asio::error_code ec;
  core_->acceptor.assign(stream(), fd.get(), ec);
  if (!ec) fd.release();
  if (ec) return make_error("control", "cannot listen on " + path + ": " + ec.message());
  return ok();
}

void control_server::serve(handler h) {
  if (!core_ || thread_.joinable()) return;
  core_->clients.on_request = std::move(h);
  core_->accept_next();
  {
    std::lock_guard<std::mutex> g(gate_->mu);
    gate_->live = &core_->clients;
  }
  thread_ = std::thread([c = core_.get()] { c->io.run(); });
}

void control_server::publish(const std::string& line) {
  gate_->run([line](auto& clients) { clients.publish(line); });
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
