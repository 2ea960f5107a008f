#include "app/lifetime_stats.hpp"

#include <spdlog/spdlog.h>

#include "platform/read_file.hpp"
#include "platform/safe_file.hpp"

namespace drover::app {

lifetime_stats::lifetime_stats(std::string dir, std::shared_ptr<engine_shared> shared) : shared_(std::move(shared)) {
  if (dir.empty()) return;
  path_ = dir + platform::path_separator() + "stats.json";
  auto text = platform::read_small_file(path_, 64 * 1024);
  if (!text) {
    if (text.err().code == "not_found")
      spdlog::info("lifetime stats: no {} yet, counting from zero", path_);
    else
      spdlog::warn("lifetime stats: cannot read {} ({}), counting from zero", path_, text.err().message);
    return;
  }
  auto t = stats::parse(*text);
  if (!t) {
    // Replaced by the next save: a file we cannot read helps nobody.
    spdlog::warn("lifetime stats: {} is damaged ({}), counting from zero", path_, t.err().message);
    return;
  }
  previous_ = *t;
}

stats::lifetime_totals lifetime_stats::totals() const {
  stats::lifetime_totals run;
  auto& c = shared_->counters;
  run.bytes_in = c.bytes_in.load(std::memory_order_relaxed);
  run.bytes_out = c.bytes_out.load(std::memory_order_relaxed);
  run.flows = c.next_flow_id.load(std::memory_order_relaxed) - 1;  // ids start at 1, one per relayed flow
  run.uptime_s = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
  return previous_ + run;
}

nlohmann::json lifetime_stats::to_json() const {
  auto t = totals();
  return {{"bytes_in", t.bytes_in}, {"bytes_out", t.bytes_out}, {"flows", t.flows}, {"uptime_s", t.uptime_s}};
}

void lifetime_stats::save() {
  if (path_.empty()) return;
  std::lock_guard<std::mutex> g(save_mu_);
  auto st = platform::write_file_atomic(path_, stats::serialise(totals()));
  if (st) {
    last_failure_.clear();
    return;
  }
  if (st.err().message != last_failure_) spdlog::warn("lifetime stats not saved: {}", st.err().message);
  last_failure_ = st.err().message;
}

}  // namespace drover::app
