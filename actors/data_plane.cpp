#include "actors/data_plane.hpp"

#include <future>

namespace drover {

data_plane::data_plane() : work_(asio::make_work_guard(io_)) {}

data_plane::~data_plane() {
  work_.reset();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id())
      thread_.detach();
    else {
      io_.stop();
      thread_.join();
    }
  }
}

void data_plane::start() {
  thread_ = std::thread([this] { io_.run(); });
}

void data_plane::shutdown() {
  if (!thread_.joinable()) return;
  std::promise<void> closed;
  post([this, &closed] {
    auto copy = sessions_;
    for (auto& kv : copy)
      if (auto s = kv.second.lock()) s->close();
    closed.set_value();
  });
  closed.get_future().wait();
  work_.reset();
  // Every socket is closed: the remaining handlers complete with errors and
  // run() returns.
  thread_.join();
}

uint64_t data_plane::add(std::weak_ptr<session_base> s) {
  auto id = next_id_++;
  sessions_.emplace(id, std::move(s));
  return id;
}

void data_plane::remove(uint64_t id) { sessions_.erase(id); }

}  // namespace drover
