#include "app/engine_host.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "actors/config_watch.hpp"
#include "actors/engine_env.hpp"
#include "actors/engine_supervisor.hpp"
#include "app/diagnostics.hpp"
#include "app/lifetime_stats.hpp"
#include "app/log_ring.hpp"
#include "app/status_json.hpp"
#include "platform/paths.hpp"
#include "platform/power.hpp"
#include "platform/process_table.hpp"
#include "platform/redirect.hpp"

namespace drover::app {
namespace {

void configure_scheduler(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::drover>();
  // The control plane is quiet: two workers, and idle workers sleep on their
  // condition variable (woken by new messages) instead of polling.
  cfg.set("scheduler.max-threads", 2);
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::seconds(1)});
  // After each message a worker spins, then polls every 50 us for 500 rounds
  // by default: with timers firing every second that alone cost ~2 % of a
  // core while idle (bench: idle CPU), and each 50 us nap is a context switch
  // competing with the data plane on two cores (bench: connect latency, +200
  // us per connection with even 10 naps). Spin briefly, then the condition
  // variable.
  cfg.set("work-stealing.aggressive-poll-attempts", 10);
  cfg.set("work-stealing.moderate-poll-attempts", 0);
}

// Two descriptors per flow; 256 kept for the engine itself (probes, the
// monitor, rule updates), so running out of them fails new flows, never the
// engine. Where the OS has no such limit (Windows sockets), none is set.
void limit_flows(engine_shared& shared) {
  if (auto limit = platform::raise_fd_limit(); limit > 0) {
    auto cap = limit > 1024 ? (limit - 256) / 2 : limit / 4;
    shared.max_flows = static_cast<int64_t>(cap);
    spdlog::info("open-file limit {}: up to {} flows at once", limit, cap);
  }
}

// How often the lifetime totals are saved. DROVER_STATS_INTERVAL_MS
// shortens it for the project's tests (a kill -9 test need not wait a
// minute); nothing else sets it.
caf::timespan stats_period() {
  if (const char* v = std::getenv("DROVER_STATS_INTERVAL_MS"))
    if (long ms = std::atol(v); ms >= 100) return std::chrono::milliseconds(ms);
  return lifetime_stats::default_period;
}

std::string stats_dir() {
  auto dir = platform::state_dir();
  if (dir) return *dir;
  spdlog::warn("lifetime stats will not be kept: {}", dir.err().message);
  return "";
}

// Hands every change the supervisor publishes to the host's subscribers,
// in order.
caf::behavior forward_changes(caf::event_based_actor*, std::vector<engine_host::subscriber> subs) {
  return {[subs](const status_snapshot& s) {
    for (auto& f : subs) f(s);
  }};
}

// Saves the lifetime totals every `period`; detached, since it writes a file.
caf::behavior save_stats_every(caf::event_based_actor* self, lifetime_stats* stats, caf::timespan period) {
  self->delayed_send(self, period, tick_atom_v);
  return {[self, stats, period](tick_atom) {
    stats->save();
    self->delayed_send(self, period, tick_atom_v);
  }};
}

}  // namespace

engine_host::engine_host(const loaded_config& lc) : lc_(lc), shared_(std::make_shared<engine_shared>()) {
  shared_->set_config(lc.cfg);
  if (lc.missing) spdlog::warn("no config at {}: using defaults", lc.path);
  if (lc.error) {
    // M-4: a broken file must not stop the engine; say so loudly, and keep
    // saying it in status until a good config is loaded.
    shared_->set_config_problem("config error, running with defaults: " + *lc.error);
    spdlog::warn("{}", shared_->config_problem());
  }
  for (auto& w : lc.warnings) spdlog::warn("config: {}", w);
  spdlog::info("drover {} starting: {}", DROVER_VERSION, lc.cfg.describe());
  limit_flows(*shared_);
  lifetime_ = std::make_unique<lifetime_stats>(stats_dir(), shared_);
  cfg_ = std::make_unique<caf::actor_system_config>();
  configure_scheduler(*cfg_);
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
}

engine_host::~engine_host() { stop(); }

void engine_host::subscribe(subscriber s) { subscribers_.push_back(std::move(s)); }

void engine_host::start() {
  supervisor_options so;
  so.version = DROVER_VERSION;
  if (auto dir = platform::crash_dump_dir())
    so.crash_dir = *dir;
  else
    spdlog::warn("crash dumps will not be written: {}", dir.err().message);
  so.reload = [path = lc_.path, shared = shared_] {
    auto r = load_config_file(path);
    if (r.read_error) return config_reload{std::nullopt, *r.read_error};
    if (r.error) return config_reload{std::nullopt, *r.error};
    if (r.missing) return config_reload{std::nullopt, "config file " + path + " is gone"};
    for (auto& w : r.warnings) spdlog::warn("config: {}", w);
    shared->set_config_problem("");
    return config_reload{r.cfg, ""};
  };
  sup_ = spawn_engine_supervisor(*sys_, make_real_env(), shared_, so);
  // Before start: the first change reaches every front end. The supervisor
  // has published into `shared` already when a change arrives, so each sees
  // what `status` answers.
  forwarder_ = sys_->spawn(forward_changes, subscribers_);
  caf::anon_send(sup_, subscribe_atom_v, forwarder_);
  lifetime_->save();  // early: an unwritable state directory shows at once
  stats_saver_ = sys_->spawn<caf::detached>(save_stats_every, lifetime_.get(), stats_period());
  watcher_ = sys_->spawn(config_watch, lc_.path, sup_);
  auto power = platform::watch_power([sup = sup_](bool sleeping) {
    if (sleeping)
      caf::anon_send(sup, sleep_atom_v);
    else
      caf::anon_send(sup, resume_atom_v);
  });
  if (power)
    power_ = std::move(*power);
  else
    spdlog::info("sleep/resume not watched: {}", power.err().message);
  caf::anon_send(sup_, start_atom_v);
}

void engine_host::reload() {
  spdlog::info("reloading {}", lc_.path);
  caf::anon_send(sup_, reload_atom_v);
}

// A config problem is the cause of what follows (the default proxy failing
// its check), so it comes first.
nlohmann::json engine_host::status() const {
  auto j = to_json(shared_->status());
  auto problem = shared_->config_problem();
  if (!problem.empty()) {
    std::string engine_error = j.value("last_error", "");
    j["last_error"] = engine_error.empty() || engine_error == problem ? problem : problem + "; " + engine_error;
  }
  // What the tray opens ("Open config", "Open log") and shows in About.
  // Absolute: the tray opens it from another working directory.
  std::error_code ec;
  auto abs = std::filesystem::absolute(lc_.path, ec);
  j["config_path"] = ec ? lc_.path : abs.string();
  j["log_path"] = log_file_path();
  j["lifetime"] = lifetime_->to_json();
  return j;
}

nlohmann::json engine_host::dump() const {
  return make_dump({shared_, status(), lifetime_->to_json(), lc_.path, lc_.warnings});
}

control_context engine_host::control(std::function<void()> quit, std::function<void()> show, bool test_hooks) {
  control_context ctx;
  ctx.sys = sys_.get();
  ctx.sup = sup_;
  ctx.shared = shared_;
  ctx.status = [this] { return status(); };
  ctx.dump = [this] { return dump(); };
  ctx.reload = [this] { reload(); };
  ctx.quit = std::move(quit);
  ctx.show = std::move(show);
  ctx.test_hooks = test_hooks;
  return ctx;
}

// The supervisor removes its rules first; then every actor is told to quit
// and has quit (~actor_system waits for all of them, so one left running
// would hang the exit).
void engine_host::stop() {
  if (stopped_) return;
  stopped_ = true;
  power_.reset();
  if (sup_) {
    caf::scoped_actor s{*sys_};
    s->request(sup_, std::chrono::seconds(3), stop_atom_v).receive([](bool) {}, [](caf::error&) {});
  }
  if (watcher_) caf::anon_send_exit(watcher_, caf::exit_reason::user_shutdown);
  if (sup_) caf::anon_send_exit(sup_, caf::exit_reason::user_shutdown);
  if (forwarder_) caf::anon_send_exit(forwarder_, caf::exit_reason::user_shutdown);
  if (stats_saver_) caf::anon_send_exit(stats_saver_, caf::exit_reason::user_shutdown);
  sys_->await_all_actors_done();
  // Every flow is closed: these are the run's final counts.
  lifetime_->save();
}

}  // namespace drover::app
