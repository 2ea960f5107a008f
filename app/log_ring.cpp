#include "app/log_ring.hpp"

#include <mutex>

#include <spdlog/sinks/ringbuffer_sink.h>

#include "platform/safe_file.hpp"

namespace drover::app {
namespace {

std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring() {
  static auto r = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(log_ring_lines);
  return r;
}

std::mutex path_mu;
std::string& path() {
  static std::string p;
  return p;
}

}  // namespace

std::shared_ptr<spdlog::sinks::sink> log_ring_sink() { return ring(); }

std::vector<std::string> recent_log_lines() {
  auto lines = ring()->last_formatted();
  for (auto& l : lines)
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
  return lines;
}

void set_log_file_dir(const std::string& dir) {
  std::lock_guard<std::mutex> g(path_mu);
  path() = dir + platform::path_separator() + "drover.log";
}

std::string log_file_path() {
  std::lock_guard<std::mutex> g(path_mu);
  return path();
}

}  // namespace drover::app
