#pragma once
// Internal to platform/linux/control_client.cpp and platform/windows/
// control_client.cpp: a client's request and the reading of its answer lines,
// the same over a socket and a pipe. Each OS keeps its connect, its send and
// its wait for bytes. A named namespace, not an unnamed one, because this is a
// header.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace drover::platform::control_detail {

/// The longest answer a client takes (a `dump` is large).
inline constexpr std::size_t max_reply = 16u << 20;

/// What one wait for bytes gave besides bytes (> 0).
inline constexpr long chunk_end = 0;     // the stream ended (or broke): that ends the last line
inline constexpr long chunk_retry = -1;  // interrupted: wait again for the time left
inline constexpr long chunk_none = -2;   // nothing in time, or the wait failed: no line

/// control_watch and control_request over one OS's connection `Link`:
/// - `Link::connect(path, timeout_ms)`: a result<Link>, failing with the
///   channel's error codes;
/// - `link.send(text, timeout_ms)`: sends what it can (a refused client reads
///   why anyway);
/// - `link.read(buf, size, timeout_ms)`: waits at most `timeout_ms` (< 0: for
///   ever), returns the bytes it put in `buf`, or chunk_end, chunk_retry,
///   chunk_none;
/// - `Link::denied_message`: how a refusal of this user reads.
template <class Link>
class reply_client {
 public:
  /// Sends "watch" and hands every line to `on_line` until it returns false
  /// or the stream ends.
  static status watch(const std::string& path, const std::function<bool(const std::string&)>& on_line) {
    auto c = open(path, "watch", 2000);
    if (!c) return c.err();
    std::string line;
    for (bool first = true; c->next(line, -1); first = false) {
      if (first && is_denied(line)) return make_error("permission_denied", Link::denied_message);
      if (!on_line(line)) break;
    }
    return ok();
  }

  /// Sends one request and returns its answer line.
  static result<std::string> request(const std::string& path, const std::string& request, int timeout_ms) {
    auto c = open(path, request, timeout_ms);
    if (!c) return c.err();
    std::string line;
    if (!c->next(line, timeout_ms)) return make_error("no_reply", "the running instance did not answer in time");
    if (is_denied(line)) return make_error("permission_denied", Link::denied_message);
    return line;
  }

 private:
  explicit reply_client(Link link) : link_(std::move(link)) {}

  static result<reply_client> open(const std::string& path, const std::string& request, int timeout_ms) {
    auto link = Link::connect(path, timeout_ms);
    if (!link) return link.err();
    link->send(request + "\n", timeout_ms);
    return reply_client(std::move(*link));
  }

  static bool is_denied(const std::string& line) {
    return line.find(R"("code":"permission_denied")") != std::string::npos;
  }

  // The next line within `timeout_ms` (< 0: waits for ever); false if none.
  // The end of the stream ends the last line.
  bool next(std::string& line, int timeout_ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char chunk[4096];
    for (auto nl = buf_.find('\n'); nl == std::string::npos && buf_.size() < max_reply; nl = buf_.find('\n')) {
      int left = -1;
      if (timeout_ms >= 0) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (ms.count() <= 0) return false;
        left = static_cast<int>(ms.count());
      }
      long n = link_.read(chunk, sizeof chunk, left);
      if (n == chunk_retry) continue;
      if (n == chunk_none) return false;
      if (n == chunk_end) break;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
    if (buf_.empty()) return false;
    auto nl = buf_.find('\n');
    line = buf_.substr(0, nl);
    buf_.erase(0, nl == std::string::npos ? buf_.size() : nl + 1);
    return true;
  }

  Link link_;
  std::string buf_;
};

}  // namespace drover::platform::control_detail
