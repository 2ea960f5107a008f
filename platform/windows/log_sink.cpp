// The same rotation as platform/linux/log_sink.cpp: drover.log →
// drover.1.log → … → drover.<backups>.log, never through a symlink or junction.
#include "platform/log_sink.hpp"

#include <windows.h>

#include <io.h>

#include <cstdio>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

#include "platform/safe_file.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

// Opens drover.log for appending and returns its current size; refuses anything but a regular
// file, since a device or pipe name planted there would swallow or block the log.
result<unique_fd> open_log(const std::string& path, std::size_t& size) {
  auto fd = open_for_write(path, write_mode::append, file_mode::shared_with_group);
  if (!fd) return fd;
  auto h = reinterpret_cast<HANDLE>(::_get_osfhandle(fd->get()));
  if (::GetFileType(h) != FILE_TYPE_DISK)
    return make_error("unsafe_path", "refusing to write " + path + ": it is not a regular file (remove it)");
  LARGE_INTEGER st{};
  if (!::GetFileSizeEx(h, &st)) return make_error("io_error", "cannot check " + path + ": " + win::last_error_text());
  size = static_cast<std::size_t>(st.QuadPart);
  return fd;
}

enum class kind { missing, link, other };

// What `path` itself is, not what a link there points to.
kind what_is(const std::wstring& path, DWORD& attrs) {
  win::unique_handle h(::CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES,
                                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                     FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  if (!h) return ::GetFileAttributesW(path.c_str()) == INVALID_FILE_ATTRIBUTES ? kind::missing : kind::other;
  FILE_ATTRIBUTE_TAG_INFO t{};
  if (!::GetFileInformationByHandleEx(h.get(), FileAttributeTagInfo, &t, sizeof t)) return kind::other;
  attrs = t.FileAttributes;
  bool link = (t.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && IsReparseTagNameSurrogate(t.ReparseTag);
  return link ? kind::link : kind::other;
}

// Deleting a link removes the link, never its target; a directory link
// (junction) goes with RemoveDirectoryW.
void remove_link(const std::wstring& path, DWORD attrs) {
  if (attrs & FILE_ATTRIBUTE_DIRECTORY)
    ::RemoveDirectoryW(path.c_str());
  else
    ::DeleteFileW(path.c_str());
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

  // _write hands every message to the OS at once: nothing is buffered here.
  void flush_() override {}

 private:
  std::string name(std::size_t i) const {
    return dir_ + (i == 0 ? std::string("\\drover.log") : "\\drover." + std::to_string(i) + ".log");
  }

  // A full disk would otherwise print the same line for every message.
  void complain(const std::string& message) {
    if (message == last_complaint_) return;
    last_complaint_ = message;
    std::fprintf(stderr, "drover: log: %s\n", message.c_str());
  }

  bool reopen() {
    auto path = name(0);
    auto wide = win::to_wide(path);
    DWORD attrs = 0;
    if (what_is(wide, attrs) == kind::link) remove_link(wide, attrs);
    auto fd = open_log(path, size_);
    if (!fd) {
      complain(fd.err().message);
      return false;
    }
    fd_ = std::move(*fd);
    last_complaint_.clear();
    return true;
  }

  // MoveFileExW renames or replaces a link itself and never writes through it; a link found as
  // the source is deleted so a planted one does not travel down the backups.
  void rotate() {
    fd_.reset();
    if (backups_ == 0) ::DeleteFileW(win::to_wide(name(0)).c_str());
    for (std::size_t i = backups_; i > 0; --i) {
      auto src = win::to_wide(name(i - 1));
      DWORD attrs = 0;
      auto k = what_is(src, attrs);
      if (k == kind::missing) continue;
      if (k == kind::link) {
        remove_link(src, attrs);
        continue;
      }
      if (!::MoveFileExW(src.c_str(), win::to_wide(name(i)).c_str(), MOVEFILE_REPLACE_EXISTING))
        complain("cannot rotate " + name(i - 1) + " to " + name(i) + ": " + win::last_error_text());
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
  auto fd = open_log(dir + "\\drover.log", size);
  if (!fd) return fd.err();
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<safe_rotating_sink>(dir, std::move(*fd), size, max_bytes, backups);
  return sink;
}

}  // namespace drover::platform
