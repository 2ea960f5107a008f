// Windows: the clients of the control pipe (see control_server.cpp). Every
// wait is bounded by overlapped I/O with a timeout, and the answer of a pipe
// served by another user is refused: anyone may create a pipe name first.
#include "platform/control_socket.hpp"

#include <windows.h>

#include <chrono>
#include <cstddef>

#include "platform/control_reply.hpp"
#include "platform/windows/user_sid.hpp"

namespace drover::platform {
namespace {

using clock_type = std::chrono::steady_clock;

DWORD ms_left(clock_type::time_point until) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
  return ms > 0 ? static_cast<DWORD>(ms) : 0;
}

// Only an engine of this user (or SYSTEM) may answer: someone else's pipe
// would otherwise tell us "Active".
status check_server(HANDLE h, const std::string& path) {
  ULONG pid = 0;
  std::string why;
  if (::GetNamedPipeServerProcessId(h, &pid)) {
    auto user = win::process_user_sid(pid);
    if (user && (*user == win::current_user_sid() || *user == win::sid_system)) return ok();
    if (user)
      return make_error("impostor", "refusing the answer on " + path + ": it is served by " + win::describe_sid(*user) +
                                        " (pid " + std::to_string(pid) + "), not by you (someone else's pipe)");
    why = user.err().message;
  } else {
    why = "cannot learn its process: " + win::last_error_text();
  }
  // The owner of a pipe is its creator (Administrators for an elevated one);
  // another user cannot give a pipe away to us.
  auto owner = win::owner_sid(h);
  if (owner && win::trusted_owner(*owner)) return ok();
  return make_error("impostor", "refusing the answer on " + path + ": cannot tell who serves it (" + why + ")");
}

// One overlapped read or write bounded by `timeout_ms` (< 0: none). Returns
// the bytes moved; 0 on end of stream, error or timeout.
DWORD transfer(HANDLE h, bool write, char* buf, DWORD len, int timeout_ms) {
  win::unique_handle event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event) return 0;
  OVERLAPPED ov{};
  ov.hEvent = event.get();
  BOOL done = write ? ::WriteFile(h, buf, len, nullptr, &ov) : ::ReadFile(h, buf, len, nullptr, &ov);
  if (!done && ::GetLastError() != ERROR_IO_PENDING) return 0;
  DWORD wait = timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms);
  if (::WaitForSingleObject(event.get(), wait) != WAIT_OBJECT_0) {
    ::CancelIoEx(h, &ov);  // the OVERLAPPED must outlive the operation: wait for it to end
  }
  DWORD n = 0;
  if (!::GetOverlappedResult(h, &ov, &n, TRUE)) return 0;
  return n;
}

// A connection to the control pipe (see control_detail::reply_client).
struct pipe_link {
  static constexpr const char* denied_message = "permission denied: the running Drover belongs to another user";

  // Maps the OS's reasons to the channel's error codes.
  static result<pipe_link> connect(const std::string& path, int timeout_ms) {
    auto until = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    auto wide = win::to_wide(path);
    for (;;) {
      // Identification only: the server may learn who we are, never act as us.
      // Read and write data, not GENERIC_WRITE: that includes the right to
      // create pipe instances, which the pipe grants no client.
      win::unique_handle h(
          ::CreateFileW(wide.c_str(), GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES, 0, nullptr, OPEN_EXISTING,
                        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
      if (h) {
        if (auto st = check_server(h.get(), path); !st) return st.err();
        return pipe_link{std::move(h)};
      }
      DWORD e = ::GetLastError();
      if (e == ERROR_ACCESS_DENIED) return make_error("permission_denied", denied_message);
      if (e != ERROR_PIPE_BUSY)
        return make_error("no_instance", "no running instance (nothing listens on " + path + ")");
      DWORD left = ms_left(until);
      if (left == 0) return make_error("no_reply", "the running instance did not accept the connection in time");
      // Every instance is busy: wait for one to free up (0 would mean the
      // server's default wait, not "none").
      auto before = clock_type::now();
      if (!::WaitNamedPipeW(wide.c_str(), left) && ::GetLastError() == ERROR_FILE_NOT_FOUND)
        return make_error("no_instance", "no running instance (nothing listens on " + path + ")");
      if (clock_type::now() - before < std::chrono::milliseconds(1)) ::Sleep(1);  // Wine returns at once
    }
  }

  void send(const std::string& s, int timeout_ms) {
    auto until = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    std::string copy = s;  // WriteFile wants a mutable buffer
    for (size_t off = 0; off < copy.size();) {
      DWORD n = transfer(h.get(), true, copy.data() + off, static_cast<DWORD>(copy.size() - off),
                         static_cast<int>(ms_left(until)));
      if (n == 0) return;  // a refused client reads the reason anyway
      off += n;
    }
  }

  long read(char* buf, std::size_t size, int timeout_ms) {
    auto until = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    DWORD n = transfer(h.get(), false, buf, static_cast<DWORD>(size), timeout_ms);
    if (n > 0) return static_cast<long>(n);
    // transfer() says 0 for both: the time ran out, or the server closed
    // (that ends the last line).
    return timeout_ms >= 0 && ms_left(until) == 0 ? control_detail::chunk_none : control_detail::chunk_end;
  }

  win::unique_handle h;
};

using client = control_detail::reply_client<pipe_link>;

}  // namespace

result<std::string> control_request(const std::string& path, const std::string& request, int timeout_ms) {
  return client::request(path, request, timeout_ms);
}

status control_watch(const std::string& path, const std::function<bool(const std::string&)>& on_line) {
  return client::watch(path, on_line);
}

}  // namespace drover::platform
