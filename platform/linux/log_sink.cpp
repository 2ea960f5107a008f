#include "platform/log_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

#include "platform/safe_file.hpp"

namespace drover::platform {
namespace {

// Opens drover.log for appending and returns its current size; refuses anything but a regular
// file, since a FIFO or device planted there would swallow or block the log.
result<unique_fd> open_log(const std::string& path, std::size_t& size) {
  auto fd = open_for_write(path, write_mode::append, file_mode::shared_with_group);
  if (!fd) return fd;
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return make_error("io_error", "cannot check " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return make_error("unsafe_path", "refusing to write " + path + ": it is not a regular file (remove it)");
  size = static_cast<std::size_t>(st.st_size);
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

  // write() hands every message to the kernel at once: nothing is buffered here.
  void flush_() override {}

 private:
  std::string name(std::size_t i) const {
    return dir_ + (i == 0 ? std::string("/drover.log") : "/drover." + std::to_string(i) + ".log");
  }

  // A full disk would otherwise print the same line for every message.
  void complain(const std::string& message) {
    if (message == last_complaint_) return;
    last_complaint_ = message;
    std::fprintf(stderr, "drover: log: %s\n", message.c_str());
  }

  bool reopen() {
    struct stat st {};
    auto path = name(0);
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) ::unlink(path.c_str());
    auto fd = open_log(path, size_);
    if (!fd) {
      complain(fd.err().message);
      return false;
    }
    fd_ = std::move(*fd);
    last_complaint_.clear();
    return true;
  }

  // rename() moves or replaces a link itself and never writes through it; a link found as the
  // source is deleted so a planted one does not travel down the backups.
  void rotate() {
    fd_.reset();
    if (backups_ == 0) ::unlink(name(0).c_str());
    for (std::size_t i = backups_; i > 0; --i) {
      auto src = name(i - 1);
      struct stat st {};
      if (::lstat(src.c_str(), &st) != 0) continue;
      if (S_ISLNK(st.st_mode)) {
        ::unlink(src.c_str());
        continue;
      }
      if (::rename(src.c_str(), name(i).c_str()) != 0)
        complain("cannot rotate " + src + " to " + name(i) + ": " + std::strerror(errno));
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
  auto fd = open_log(dir + "/drover.log", size);
  if (!fd) return fd.err();
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<safe_rotating_sink>(dir, std::move(*fd), size, max_bytes, backups);
  return sink;
}

}  // namespace drover::platform
