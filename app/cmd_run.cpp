// `drover run`: the start-up checks, then the engine host and its front ends
// until `drover stop`, SIGINT or SIGTERM (Windows: console close, log-off);
// SIGHUP reloads the config. Under systemd (Type=notify) it reports READY
// once the rules are in place and STATUS on every change.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <utility>

#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/control_front.hpp"
#include "app/engine_client.hpp"
#include "app/engine_host.hpp"
#include "app/log_ring.hpp"
#include "app/tray_front.hpp"
#include "platform/autostart.hpp"
#include "platform/control_socket.hpp"
#include "platform/desktop.hpp"
#include "platform/elevation.hpp"
#include "platform/log_sink.hpp"
#include "platform/main_loop.hpp"
#include "platform/paths.hpp"
#include "platform/service_notify.hpp"
#include "platform/single_instance.hpp"

namespace drover::app {
namespace {

// stderr always (the journal under systemd); the log file when its
// directory and file pass the safety checks; the last lines in memory for
// the diagnostics dump. Returns why there is no file.
std::string setup_logging(const config::config& cfg) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  sinks.push_back(log_ring_sink());
  std::string no_file;
  if (auto dir = platform::log_dir(); !dir) {
    no_file = dir.err().message;
  } else if (auto file = platform::make_log_file_sink(*dir, static_cast<size_t>(cfg.ui.log_max_mb) * 1024 * 1024,
                                                      static_cast<size_t>(cfg.ui.log_backups));
             !file) {
    no_file = file.err().message;
  } else {
    sinks.push_back(*file);
    set_log_file_dir(*dir);
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

// A second launch where that activates the first (Windows: a double click on
// a running Drover): ask it to show itself. True when it answered.
bool activate_running_instance() {
  auto r = platform::control_request(platform::control_socket_path(), "show", 2000);
  if (!r) platform::tell_start_failure("already running, but it did not answer: " + r.err().message);
  return r.ok();
}

// The engine needs the right to capture; where the OS can ask the user for
// it (Windows' UAC prompt), this copy hands over to an elevated one.
int without_elevation(const options& o) {
  auto st = platform::relaunch_elevated(o.args);
  if (st) return exit_ok;                            // the elevated copy is the engine now
  if (st.err().code == "cancelled") return exit_ok;  // the user said no: nothing to report
  platform::tell_start_failure("drover run needs the right to capture packets: " + st.err().message);
  return exit_failure;
}

// Windows: this process is the tray too, unless --no-tray or
// ui.tray_icon = false. Its client subscribes before the engine starts, so
// it sees every change; the tray opens once the engine has started (its
// control context names the supervisor).
std::unique_ptr<in_process_client> tray_client(const options& o, const loaded_config& lc, engine_host& host) {
  if (!platform::tray_in_engine_process() || o.no_tray || !lc.cfg.ui.tray_icon) return nullptr;
  auto client = std::make_unique<in_process_client>();
  host.subscribe([publish = client->publisher(), &host](const status_snapshot&) { publish(host.status().dump()); });
  return client;
}

// No tray is not fatal: the engine runs without.
std::unique_ptr<tray_front> open_tray(std::unique_ptr<in_process_client> client, const options& o,
                                      const loaded_config& lc, engine_host& host) {
  if (!client) return nullptr;
  auto ctx = host.control([] { platform::post_main_loop(platform::os_request::stop); },
                          [] { platform::post_main_loop(platform::os_request::show); }, o.test_hooks);
  client->connect(ctx);
  tray_front_options to;
  to.os = tray::flavour::windows;
  to.toast_already_shown = lc.cfg.ui.shown_tray_toast;
  auto front = tray_front::open(*ctx.sys, std::move(client), to);
  if (!front) {
    spdlog::warn("no tray icon: {}", front.err().message);
    return nullptr;
  }
  return std::move(*front);
}

}  // namespace

int cmd_run(const options& o) {
  platform::prepare_main_thread();
  if (auto m = platform::check_machine(); !m) {
    platform::tell_start_failure(m.err().message);
    return exit_failure;
  }
  auto lc = load_config_file(o.config_path);
  if (lc.read_error) {
    platform::tell_start_failure(*lc.read_error);
    return exit_usage;
  }
  if (lc.missing && o.config_given) {
    platform::tell_start_failure("config file not found: " + lc.path);
    return exit_usage;
  }
  // A file named on the command line is the one the user chose: running
  // with defaults instead (M-4, for the default path only) would not be it.
  if (lc.error && o.config_given) {
    platform::tell_start_failure("config error: " + *lc.error);
    return exit_usage;
  }
  bool activates = platform::second_run_activates_first();
  // Before any elevation prompt: a second launch of a running Drover only
  // brings the first one forward, and one that does not answer is reported
  // once, here (an elevated copy would only find it again).
  if (activates && !platform::single_instance::holder().empty())
    return activate_running_instance() ? exit_ok : exit_failure;
  if (!platform::is_elevated()) return without_elevation(o);
  // One engine at a time, decided before anything is cleaned up or
  // installed: a second run would remove the first one's rules as stale.
  // Held until the rules are gone.
  auto lock = platform::single_instance::acquire();
  if (!lock) {
    // Started between the look above and the lock.
    if (activates && lock.err().code == "already_running") return activate_running_instance() ? exit_ok : exit_failure;
    platform::tell_start_failure(lock.err().message);
    return exit_failure;
  }
  auto no_log_file = setup_logging(lc.cfg);
  if (!no_log_file.empty()) spdlog::warn("logging to stderr only: {}", no_log_file);
  if (!(*lock)->squatter().empty()) spdlog::warn("engine lock: {}", (*lock)->squatter());
  // While autostart is on, it names this copy (the program moved, a new
  // install): a stale entry would start nothing, or another copy.
  if (auto a = platform::autostart_refresh(); !a && a.err().code != "unsupported")
    spdlog::warn("autostart: {}", a.err().message);
  // Everything that can refuse the start comes before the engine: an error
  // then leaves nothing running to wait for.
  control_front control;
  if (auto st = control.listen(); !st) {
    spdlog::error("{}", st.err().message);  // the log file has it; the user sees it as below
    platform::tell_start_failure(st.err().message);
    return exit_failure;
  }
  engine_host host(lc);
  control.attach(host);
  attach_service_manager(host);
  auto client_of_tray = tray_client(o, lc, host);
  std::unique_ptr<tray_front> tray;
  // However cmd_run ends from here on: the engine stops (its rules go
  // first), and only then does the control channel go, which is what
  // `drover stop` waits for; the lock right after, so a `drover run` right
  // after `drover stop` gets it.
  bool stopped = false;
  auto stop_all = [&] {
    if (std::exchange(stopped, true)) return;
    platform::notify_stopping();
    tray.reset();  // its actor lives in the host's actor system
    host.stop();
    control.stop();
    lock->reset();
    spdlog::info("stopped");
  };
  on_exit shutdown{stop_all};
  host.start();
  tray = open_tray(std::move(client_of_tray), o, lc, host);
  // Both arrive on the control channel's thread; the main loop acts on them.
  control.serve(host.control([] { platform::post_main_loop(platform::os_request::stop); },
                             [] { platform::post_main_loop(platform::os_request::show); }, o.test_hooks));
  platform::run_main_loop([&](platform::os_request r) {
    switch (r) {
      case platform::os_request::stop:
        spdlog::info("stopping");
        stop_all();  // here: the session's end on Windows waits for this call
        return false;
      case platform::os_request::reload:
        host.reload();
        break;
      case platform::os_request::show:
        spdlog::info("a second launch asked this instance to show itself");
        if (tray) tray->show_yourself();
        break;
      case platform::os_request::none:
        break;
    }
    return true;
  });
  return exit_ok;
}

}  // namespace drover::app
