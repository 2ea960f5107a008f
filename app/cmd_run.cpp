// `drover run`: the engine in the foreground until stop, SIGINT or SIGTERM.
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <utility>

#include "actors/config_watch.hpp"
#include "actors/engine_shared.hpp"
#include "actors/engine_supervisor.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/status_json.hpp"
#include "platform/control_socket.hpp"
#include "platform/paths.hpp"
#include "platform/power.hpp"
#include "platform/process_table.hpp"
#include "platform/signals.hpp"
#include "platform/single_instance.hpp"

namespace drover::app {
namespace {

void setup_logging(const config::config& cfg) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  std::error_code ec;
  std::filesystem::create_directories(platform::log_dir(), ec);
  try {
    sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        platform::log_dir() + "/drover.log", static_cast<size_t>(cfg.ui.log_max_mb) * 1024 * 1024,
        static_cast<size_t>(cfg.ui.log_backups)));
  } catch (const spdlog::spdlog_ex&) {
    // No writable log directory: stderr alone still tells the story.
  }
  auto logger = std::make_shared<spdlog::logger>("drover", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(cfg.ui.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// Runs `f` on every way out of a scope, return or exception.
template <class F>
class on_exit {
 public:
  explicit on_exit(F f) : f_(std::move(f)) {}
  ~on_exit() { f_(); }
  on_exit(const on_exit&) = delete;
  on_exit& operator=(const on_exit&) = delete;

 private:
  F f_;
};

}  // namespace

int cmd_run(const options& o) {
  platform::block_stop_signals();
  auto lc = load_config_file(o.config_path);
  if (lc.missing && o.config_given) {
    std::fprintf(stderr, "drover: config file not found: %s\n", lc.path.c_str());
    return exit_usage;
  }
  // One engine per network namespace, decided before anything is cleaned up
  // or installed: a second run would remove the first one's rules as stale.
  // Held until the rules are gone.
  auto lock = platform::single_instance::acquire();
  if (!lock) {
    std::fprintf(stderr, "drover: %s\n", lock.err().message.c_str());
    return exit_failure;
  }
  setup_logging(lc.cfg);
  if (!platform::is_elevated()) {
    spdlog::error("drover run needs root (it installs netfilter rules and opens NFQUEUE)");
    return exit_failure;
  }
  // Everything that can refuse the start comes before the actor system: an
  // error then leaves nothing running to wait for (signals are blocked, so a
  // wait here would be for ever).
  platform::control_server control;
  if (auto st = control.listen(platform::control_socket_path()); !st) {
    spdlog::error("{}", st.err().message);
    return exit_failure;
  }
  std::string config_problem;
  if (lc.error) {
    // M-4: a broken file must not stop the engine; say so loudly instead.
    config_problem = "config error, running with defaults: " + *lc.error;
    spdlog::warn("{}", config_problem);
  }
  for (auto& w : lc.warnings) spdlog::warn("config: {}", w);
  spdlog::info("drover {} starting: {}", DROVER_VERSION, lc.cfg.describe());

  auto shared = std::make_shared<engine_shared>();
  shared->set_config(lc.cfg);

  // Two descriptors per flow; 256 kept for the engine itself (probes, the
  // monitor, rule updates), so running out of them fails new flows, never
  // the engine.
  if (auto limit = platform::raise_fd_limit(); limit > 0) {
    auto cap = limit > 1024 ? (limit - 256) / 2 : limit / 4;
    shared->max_flows = static_cast<int64_t>(cap);
    spdlog::info("open-file limit {}: up to {} flows at once", limit, cap);
  }
  caf::actor_system_config cfg;
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
  caf::actor_system sys{cfg};
  supervisor_actor sup;
  config_watch_actor watcher;
  std::atomic<bool> stop_requested{false};
  // Answered from what the supervisor last published, never by asking it:
  // status must answer at once while the supervisor is busy.
  auto status_of = [&shared, &config_problem]() -> nlohmann::json {
    auto j = to_json(shared->status());
    if (!config_problem.empty() && j.value("last_error", "").empty()) j["last_error"] = config_problem;
    return j;
  };
  // However cmd_run ends from here on: the supervisor removes its rules, every
  // actor is told to quit and has quit (~actor_system waits for all of them,
  // so one left running would hang the exit), and only then does the control
  // socket go, which is what `drover stop` waits for.
  on_exit shutdown{[&] {
    if (sup) {
      caf::scoped_actor s{sys};
      s->request(sup, std::chrono::seconds(3), stop_atom_v).receive([](bool) {}, [](caf::error&) {});
    }
    if (watcher) caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
    if (sup) caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    control.stop();
    // Right away, not at the end of the scope: `drover stop` returns once the
    // socket is gone, and a `drover run` right after it must get the lock.
    lock->reset();
    spdlog::info("stopped");
  }};
  supervisor_options so;
  so.version = DROVER_VERSION;
  so.crash_dir = platform::log_dir();
  std::string path = lc.path;
  so.reload = [path] {
    auto r = load_config_file(path);
    if (r.error) return config_reload{std::nullopt, *r.error};
    if (r.missing) return config_reload{std::nullopt, "config file " + path + " is gone"};
    for (auto& w : r.warnings) spdlog::warn("config: {}", w);
    return config_reload{r.cfg, ""};
  };
  // The supervisor has published into `shared` already: watchers get the
  // same answer as `status`.
  so.on_change = [&control, &status_of](const status_snapshot&) { control.publish(status_of().dump()); };
  sup = spawn_engine_supervisor(sys, make_real_env(), shared, so);
  watcher = sys.spawn(config_watch, lc.path, sup);
  auto power = platform::watch_power([sup](bool sleeping) {
    if (sleeping)
      caf::anon_send(sup, sleep_atom_v);
    else
      caf::anon_send(sup, resume_atom_v);
  });
  if (!power) spdlog::info("sleep/resume not watched: {}", power.err().message);

  control.serve([&](const std::string& req) -> std::string {
    if (req == "ping") return R"({"ok":true})";
    if (req == "status") return status_of().dump();
    if (req == "stop") {
      stop_requested = true;
      return R"({"ok":true})";
    }
    // The same path the power watcher takes; lets tests inject the events.
    if (req == "sleep" || req == "resume") {
      if (req == "sleep")
        caf::anon_send(sup, sleep_atom_v);
      else
        caf::anon_send(sup, resume_atom_v);
      return R"({"ok":true})";
    }
    if (req == "dump") {
      nlohmann::json d = {{"version", DROVER_VERSION},
                          {"status", status_of()},
                          {"config", shared->get_config().describe()},
                          {"config_path", lc.path},
                          {"config_warnings", lc.warnings}};
      return d.dump();
    }
    return R"({"error":"unknown request"})";
  });
  caf::anon_send(sup, start_atom_v);

  while (!stop_requested && !platform::wait_stop_signal(50)) {
  }
  spdlog::info("stopping");
  return exit_ok;
}

}  // namespace drover::app
