#pragma once
/// The Asio side of the engine: one io_context on its own thread, and the
/// registry of live relay sessions so a stop can close them all.
#include <asio.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace drover {

class session_base {
 public:
  virtual ~session_base() = default;
  /// Closes every socket; called on the io thread.
  virtual void close() = 0;
};

class data_plane : public std::enable_shared_from_this<data_plane> {
 public:
  data_plane();
  ~data_plane();
  data_plane(const data_plane&) = delete;
  data_plane& operator=(const data_plane&) = delete;

  asio::io_context& io() { return io_; }
  void start();
  /// Closes all sessions, lets pending handlers finish and joins the thread.
  void shutdown();
  /// Session bookkeeping (io thread only).
  uint64_t add(std::weak_ptr<session_base> s);
  void remove(uint64_t id);
  /// Runs `f` on the io thread.
  void post(std::function<void()> f) { asio::post(io_, std::move(f)); }
  /// One receive buffer shared by every session (io thread only, never held
  /// across a wait): a UDP flow then costs a few hundred bytes, not 64 KB.
  asio::mutable_buffer scratch() { return asio::buffer(scratch_); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unordered_map<uint64_t, std::weak_ptr<session_base>> sessions_;
  uint64_t next_id_ = 1;
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(65536);
};

}  // namespace drover
