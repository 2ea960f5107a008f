// `drover tray` (Linux): the tray icon of the running service, in the
// desktop user's session, talking to the engine over its control socket.
// It quits alone; the service keeps running. On Windows the tray is part of
// `drover run`.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <cstdio>

#include "app/commands.hpp"
#include "app/engine_client.hpp"
#include "app/tray_front.hpp"
#include "platform/control_socket.hpp"
#include "platform/desktop.hpp"
#include "platform/main_loop.hpp"
#include "platform/paths.hpp"

namespace drover::app {

int cmd_tray(const options&) {
  if (platform::tray_in_engine_process()) {
    std::fprintf(stderr, "drover tray: on this system the tray is part of `drover run` (unless --no-tray)\n");
    return exit_usage;
  }
  platform::prepare_main_thread();
  spdlog::set_default_logger(spdlog::stderr_color_mt("drover-tray"));
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::drover>();
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  tray_front_options to;
  to.os = tray::flavour::linux_session;
  auto path = platform::control_socket_path();
  auto front = tray_front::open(sys, make_socket_client(path), to);
  if (!front) {
    std::fprintf(stderr, "drover tray: %s\n", front.err().message.c_str());
    return exit_failure;
  }
  spdlog::info("tray for the engine at {}", path);
  platform::run_main_loop([](platform::os_request r) { return r != platform::os_request::stop; });
  front->reset();
  spdlog::info("tray stopped (the engine keeps running)");
  return exit_ok;
}

}  // namespace drover::app
