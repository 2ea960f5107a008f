// `drover run`: the engine in the foreground until `drover stop`, SIGINT or
// SIGTERM; SIGHUP reloads the config. Under systemd (Type=notify) it reports
// READY once the rules are in place and STATUS on every change.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <utility>

#include "actors/config_watch.hpp"
#include "actors/engine_shared.hpp"
#include "actors/engine_supervisor.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/control_requests.hpp"
#include "app/status_json.hpp"
#include "platform/control_socket.hpp"
#include "platform/log_sink.hpp"
#include "platform/paths.hpp"
#include "platform/power.hpp"
#include "platform/process_table.hpp"
#include "platform/service_notify.hpp"
#include "platform/signals.hpp"
#include "platform/single_instance.hpp"

namespace drover::app {
namespace {

// stderr always (the journal under systemd); the log file when its
// directory and file pass the safety checks. Returns why there is no file.
std::string setup_logging(const config::config& cfg) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  std::string no_file;
  if (auto dir = platform::log_dir(); !dir) {
    no_file = dir.err().message;
  } else if (auto file = platform::make_log_file_sink(*dir, static_cast<size_t>(cfg.ui.log_max_mb) * 1024 * 1024,
                                                      static_cast<size_t>(cfg.ui.log_backups));
             !file) {
    no_file = file.err().message;
  } else {
    sinks.push_back(*file);
  }
  auto logger = std::make_shared<spdlog::logger>("drover", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(cfg.ui.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return no_file;
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
// engine.
void limit_flows(engine_shared& shared) {
  if (auto limit = platform::raise_fd_limit(); limit > 0) {
    auto cap = limit > 1024 ? (limit - 256) / 2 : limit / 4;
    shared.max_flows = static_cast<int64_t>(cap);
    spdlog::info("open-file limit {}: up to {} flows at once", limit, cap);
  }
}

// The one line `systemctl status` shows.
std::string service_line(const status_snapshot& s) {
  std::string line = s.state;
  if (!s.detail.empty()) line += ": " + s.detail;
  if (s.state != "Active" && !s.last_error.empty()) line += " (" + s.last_error + ")";
  return line;
}

}  // namespace

int cmd_run(const options& o) {
  platform::block_stop_signals();
  auto lc = load_config_file(o.config_path);
  if (lc.read_error) {
    std::fprintf(stderr, "drover: %s\n", lc.read_error->c_str());
    return exit_usage;
  }
  if (lc.missing && o.config_given) {
    std::fprintf(stderr, "drover: config file not found: %s\n", lc.path.c_str());
    return exit_usage;
  }
  // A file named on the command line is the one the user chose: running
  // with defaults instead (M-4, for the default path only) would not be it.
  if (lc.error && o.config_given) {
    std::fprintf(stderr, "drover: config error: %s\n", lc.error->c_str());
    return exit_usage;
  }
  if (!platform::is_elevated()) {
    std::fprintf(stderr, "drover: drover run needs root (it installs netfilter rules and opens NFQUEUE)\n");
    return exit_failure;
  }
  // One engine per network namespace, decided before anything is cleaned up
  // or installed: a second run would remove the first one's rules as stale.
  // Held until the rules are gone.
  auto lock = platform::single_instance::acquire();
  if (!lock) {
    std::fprintf(stderr, "drover: %s\n", lock.err().message.c_str());
    return exit_failure;
  }
  auto socket_path = platform::control_socket_listen_path();
  if (!socket_path) {
    std::fprintf(stderr, "drover: %s\n", socket_path.err().message.c_str());
    return exit_failure;
  }
  auto no_log_file = setup_logging(lc.cfg);
  if (!no_log_file.empty()) spdlog::warn("logging to stderr only: {}", no_log_file);
  if (!(*lock)->squatter().empty()) spdlog::warn("engine lock: {}", (*lock)->squatter());
  // Everything that can refuse the start comes before the actor system: an
  // error then leaves nothing running to wait for (signals are blocked, so a
  // wait here would be for ever).
  platform::control_server control;
  if (auto st = control.listen(*socket_path); !st) {
    spdlog::error("{}", st.err().message);
    return exit_failure;
  }
  auto shared = std::make_shared<engine_shared>();
  shared->set_config(lc.cfg);
  if (lc.missing) spdlog::warn("no config at {}: using defaults", lc.path);
  if (lc.error) {
    // M-4: a broken file must not stop the engine; say so loudly, and keep
    // saying it in status until a good config is loaded.
    shared->set_config_problem("config error, running with defaults: " + *lc.error);
    spdlog::warn("{}", shared->config_problem());
  }
  for (auto& w : lc.warnings) spdlog::warn("config: {}", w);
  spdlog::info("drover {} starting: {}", DROVER_VERSION, lc.cfg.describe());
  limit_flows(*shared);

  caf::actor_system_config cfg;
  configure_scheduler(cfg);
  caf::actor_system sys{cfg};
  supervisor_actor sup;
  config_watch_actor watcher;
  std::atomic<bool> stop_requested{false};
  // Answered from what the supervisor last published, never by asking it:
  // status must answer at once while the supervisor is busy. A config
  // problem is the cause of what follows (the default proxy failing its
  // check), so it comes first.
  auto status_of = [&shared]() -> nlohmann::json {
    auto j = to_json(shared->status());
    auto problem = shared->config_problem();
    if (!problem.empty()) {
      std::string engine_error = j.value("last_error", "");
      j["last_error"] = engine_error.empty() || engine_error == problem ? problem : problem + "; " + engine_error;
    }
    return j;
  };
  // However cmd_run ends from here on: the supervisor removes its rules, every
  // actor is told to quit and has quit (~actor_system waits for all of them,
  // so one left running would hang the exit), and only then does the control
  // socket go, which is what `drover stop` waits for.
  on_exit shutdown{[&] {
    platform::notify_stopping();
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
  if (auto dir = platform::state_dir())
    so.crash_dir = *dir;
  else
    spdlog::warn("crash dumps will not be written: {}", dir.err().message);
  std::string path = lc.path;
  so.reload = [path, shared] {
    auto r = load_config_file(path);
    if (r.read_error) return config_reload{std::nullopt, *r.read_error};
    if (r.error) return config_reload{std::nullopt, *r.error};
    if (r.missing) return config_reload{std::nullopt, "config file " + path + " is gone"};
    for (auto& w : r.warnings) spdlog::warn("config: {}", w);
    shared->set_config_problem("");
    return config_reload{r.cfg, ""};
  };
  // READY once the engine has left Starting: its rules are in place (Active,
  // Reconnecting), or the start definitely failed (Failed) and status says
  // why; either way the service manager need not wait longer.
  auto ready = std::make_shared<std::atomic<bool>>(false);
  // The supervisor has published into `shared` already: watchers get the
  // same answer as `status`.
  so.on_change = [&control, &status_of, ready](const status_snapshot& s) {
    control.publish(status_of().dump());
    bool started = s.state != "Idle" && s.state != "Starting";
    if (started && !ready->exchange(true))
      platform::notify_ready(service_line(s));
    else
      platform::notify_status(service_line(s));
  };
  sup = spawn_engine_supervisor(sys, make_real_env(), shared, so);
  watcher = sys.spawn(config_watch, lc.path, sup);
  auto power = platform::watch_power([sup](bool sleeping) {
    if (sleeping)
      caf::anon_send(sup, sleep_atom_v);
    else
      caf::anon_send(sup, resume_atom_v);
  });
  if (!power) spdlog::info("sleep/resume not watched: {}", power.err().message);

  control_context ctx;
  ctx.sys = &sys;
  ctx.sup = sup;
  ctx.shared = shared;
  ctx.status = status_of;
  ctx.dump = [&] {
    return nlohmann::json{{"version", DROVER_VERSION},
                          {"status", status_of()},
                          {"config", shared->get_config().describe()},
                          {"config_path", lc.path},
                          {"config_warnings", lc.warnings}};
  };
  ctx.reload = [sup] { caf::anon_send(sup, reload_atom_v); };
  ctx.quit = &stop_requested;
  ctx.test_hooks = o.test_hooks;
  control.serve([ctx](const std::string& req, platform::control_server::reply_fn reply) {
    handle_control_request(ctx, req, std::move(reply));
  });
  caf::anon_send(sup, start_atom_v);

  while (!stop_requested) {
    auto req = platform::wait_os_request(50);
    if (req == platform::os_request::stop) break;
    if (req == platform::os_request::reload) {
      spdlog::info("SIGHUP: reloading {}", lc.path);
      caf::anon_send(sup, reload_atom_v);
    }
  }
  spdlog::info("stopping");
  return exit_ok;
}

}  // namespace drover::app
