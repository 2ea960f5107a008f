// Windows: the control channel on the named pipe \\.\pipe\drover-<install id>,
// served with overlapped I/O on the server's one thread (Asio's completion
// port). Only this user (and SYSTEM) may open the pipe, with a medium label so
// an unelevated CLI reaches an elevated engine; remote clients are rejected.
#include <asio.hpp>

#include "platform/control_socket.hpp"

#include <windows.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>

#include "platform/control_session.hpp"
#include "platform/elevation.hpp"
#include "platform/windows/user_sid.hpp"

namespace drover::platform {
namespace {

using pipe_stream = asio::windows::stream_handle;
using control_detail::too_many_reply;

// A pipe has no half-close (an error means the client is gone), and `echo
// status` from cmd ends its line in CRLF.
struct pipe_transport {
  using stream = pipe_stream;
  static constexpr bool half_close = false;
  static constexpr bool strip_cr = true;
};

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

struct control_server::gate : control_detail::session_gate<pipe_transport> {};

// Everything the io thread owns. Other threads reach its clients only through
// the gate, which forgets them (under its mutex) before they are destroyed.
struct control_server::core {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  asio::steady_timer retry{io};
  std::wstring name;
  win::security_descriptor sd;
  std::set<std::shared_ptr<pipe_stream>> idle;  // instances waiting for a client
  control_detail::sessions<pipe_transport> clients{io};
  bool stopping = false;

  void wait_client(const std::shared_ptr<pipe_stream>& p);
  void add_instances();
  void retry_later();
  void admit(pipe_stream p);
  void close_all();
};

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

// Over the limit the refusal is written like any answer (overlapped, within
// the flush timeout); meanwhile the newcomer takes no slot.
void control_server::core::admit(pipe_stream p) {
  if (clients.served() >= control_max_clients) return clients.turn_away(std::move(p), too_many_reply);
  clients.serve(std::move(p));
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
  clients.close_all();
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
  // The user may talk to the engine (read, write data and attributes:
  // 0x12018B) but not create instances of its pipe (FILE_CREATE_PIPE_INSTANCE
  // is FILE_APPEND_DATA, part of GENERIC_WRITE): unelevated code of the same
  // user could otherwise serve the next client itself, answer "Active" and
  // swallow "stop". The elevated engine creates them as an Administrator. An
  // engine that is not elevated (a development run) keeps full rights.
  std::string user_rights = is_elevated() ? "0x12018b" : "GA";
  auto sd = win::security_descriptor::from_sddl("D:P(A;;" + user_rights + ";;;" + me + ")(A;;GA;;;BA)(A;;GA;;;SY)" +
                                                "S:(ML;;NW;;;ME)");
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
  c->clients.gate = gate_;
  core_ = std::move(c);
  path_ = path;
  return ok();
}

void control_server::serve(handler h) {
  if (!core_ || thread_.joinable()) return;
  core_->clients.on_request = std::move(h);
  {
    std::lock_guard<std::mutex> g(gate_->mu);
    gate_->live = &core_->clients;
  }
  asio::post(core_->io, [c = core_.get()] {
    auto waiting = c->idle;
    for (auto& p : waiting) c->wait_client(p);
    c->add_instances();
  });
  thread_ = std::thread([c = core_.get()] { c->io.run(); });
}

void control_server::publish(const std::string& line) {
  gate_->run([line](auto& clients) { clients.publish(line); });
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
