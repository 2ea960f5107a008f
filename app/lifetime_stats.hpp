#pragma once
/// The engine's lifetime totals (core/stats) on disk: stats.json in the
/// state directory, loaded at start, written atomically every minute (so a
/// `kill -9` loses at most that) and at stop.
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "actors/engine_shared.hpp"
#include "core/stats.hpp"

namespace drover::app {

class lifetime_stats {
 public:
  /// How often the engine host saves by default.
  static constexpr std::chrono::seconds default_period{60};

  /// Loads `dir`/stats.json; a missing or broken file starts from zero (and
  /// says so in the log), never failing the start. `dir` empty: nothing is
  /// read or written (no usable state directory).
  lifetime_stats(std::string dir, std::shared_ptr<engine_shared> shared);
  /// The totals before this run plus this run's so far.
  stats::lifetime_totals totals() const;
  /// {"bytes_in","bytes_out","flows","uptime_s"} of totals().
  nlohmann::json to_json() const;
  /// Writes totals() to stats.json (temporary file + rename); a failure is
  /// logged (once until it works again), never thrown. From any thread.
  void save();
  /// Where the totals live ("" without a state directory).
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::shared_ptr<engine_shared> shared_;
  stats::lifetime_totals previous_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::mutex save_mu_;
  std::string last_failure_;
};

}  // namespace drover::app
