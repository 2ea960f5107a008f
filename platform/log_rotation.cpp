// The rotating log sink both OSes share. The file-system steps that differ between them (what a
// name is without following it, removing and renaming a link itself) are in platform/safe_file.
#include "platform/log_sink.hpp"

#include <cstdio>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

#include "platform/safe_file.hpp"

namespace drover::platform {
namespace {

// Opens drover.log for appending and returns its current size; refuses anything but a regular
// file, since a FIFO, device or pipe planted there would swallow or block the log.
result<unique_fd> open_log(const std::string& path, std::size_t& size) {
  auto fd = open_for_write(path, write_mode::append, file_mode::shared_with_group);
  if (!fd) return fd;
  auto bytes = regular_file_size(fd->get(), path);
  if (!bytes) return bytes.err();
  size = static_cast<std::size_t>(*bytes);
  return fd;
}

class safe_rotating_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  safe_rotating_sink(std::string dir, unique_fd fd, std::size_t size, std::size_t max_bytes, std::size_t backups)
      : dir_(std::move(dir)), fd_(std::move(fd)), size_(size), max_bytes_(max_bytes), backups_(backups) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    if (!fd_ && !reopen()) return;
    std::size_t new_size = size_ + buf.size();
    // Like spdlog: an empty file is never rotated, so one huge line cannot rotate forever.
    if (max_bytes_ > 0 && new_size > max_bytes_ && size_ > 0) {
      rotate();
      if (!fd_) return;
      new_size = size_ + buf.size();
    }
    if (auto st = write_all(fd_.get(), buf.data(), buf.size(), name(0)); !st) return complain(st.err().message);
    size_ = new_size;
  }

  // write_all hands every message to the OS at once: nothing is buffered here.
  void flush_() override {}

 private:
  std::string name(std::size_t i) const {
    return dir_ + path_separator() + (i == 0 ? std::string("drover.log") : "drover." + std::to_string(i) + ".log");
  }

  // A full disk would otherwise print the same line for every message.
  void complain(const std::string& message) {
    if (message == last_complaint_) return;
    last_complaint_ = message;
    std::fprintf(stderr, "drover: log: %s\n", message.c_str());
  }

  // A link planted as drover.log is removed, never followed; if that fails, open_log refuses it
  // and says so.
  bool reopen() {
    auto path = name(0);
    if (entry_kind_of(path) == entry_kind::link) remove_no_follow(path);
    auto fd = open_log(path, size_);
    if (!fd) {
      complain(fd.err().message);
      return false;
    }
    fd_ = std::move(*fd);
    last_complaint_.clear();
    return true;
  }

  // rename_replacing moves or replaces a link itself and never writes through it; a link found as
  // the source is removed so a planted one does not travel down the backups. A removal that fails
  // leaves nothing worse behind: the next rename replaces the link, or reopen refuses it.
  void rotate() {
    fd_.reset();
    if (backups_ == 0) remove_no_follow(name(0));
    for (std::size_t i = backups_; i > 0; --i) {
      auto src = name(i - 1);
      auto kind = entry_kind_of(src);
      if (kind == entry_kind::missing) continue;
      if (kind == entry_kind::link) {
        remove_no_follow(src);
        continue;
      }
      if (auto st = rename_replacing(src, name(i)); !st) complain(st.err().message);
    }
    reopen();
  }

  std::string dir_;
  unique_fd fd_;
  std::size_t size_;
  std::size_t max_bytes_;
  std::size_t backups_;
  std::string last_complaint_;
};

}  // namespace

result<std::shared_ptr<spdlog::sinks::sink>> make_log_file_sink(const std::string& dir, std::size_t max_bytes,
                                                                std::size_t backups) {
  std::size_t size = 0;
  auto fd = open_log(dir + path_separator() + "drover.log", size);
  if (!fd) return fd.err();
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<safe_rotating_sink>(dir, std::move(*fd), size, max_bytes, backups);
  return sink;
}

}  // namespace drover::platform
