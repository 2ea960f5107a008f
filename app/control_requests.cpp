#include "app/control_requests.hpp"

#include <chrono>

#include "app/diagnostics.hpp"
#include "app/status_json.hpp"
#include "platform/paths.hpp"
#include "platform/safe_file.hpp"
#include "platform/upstream_probe.hpp"

namespace drover::app {
namespace {

std::string ok_reply() { return R"({"ok":true})"; }
std::string error_reply(const std::string& why) { return nlohmann::json{{"error", why}}.dump(); }

// Idle -> Idle again once the rules are gone; the answer waits for that, so
// a `status` right after it reads Idle.
void stop_engine(const control_context& c, std::function<void(std::string)> reply) {
  c.sys->spawn([sup = c.sup, reply](caf::event_based_actor* self) {
    self->request(sup, std::chrono::seconds(10), stop_atom_v)
        .then(
            [self, reply](bool) {
              reply(ok_reply());
              self->quit();
            },
            [self, reply](caf::error& e) {
              reply(error_reply("the engine did not stop: " + caf::to_string(e)));
              self->quit();
            });
  });
}

// The same check as `drover check`, against the running engine's proxy; on
// an actor of its own (it blocks for up to the configured timeouts), which
// the shutdown waits for.
void run_check(const control_context& c, std::function<void(std::string)> reply) {
  auto proxy = c.shared->get_config().proxy;
  c.sys->spawn<caf::detached>([proxy, reply](caf::event_based_actor* self) {
    try {
      reply(probe_to_json(platform::probe_upstream(proxy), proxy).dump());
    } catch (const std::exception& e) {
      reply(error_reply(std::string("cannot check the proxy: ") + e.what()));
    }
    self->quit();
  });
}

// The dump looks up every flow's process (blocking): on an actor of its own,
// like the check, so other clients are answered meanwhile.
void send_dump(const control_context& c, std::function<void(std::string)> reply) {
  c.sys->spawn<caf::detached>([dump = c.dump, reply](caf::event_based_actor* self) {
    try {
      reply(dump().dump());
    } catch (const std::exception& e) {
      reply(error_reply(std::string("cannot build the dump: ") + e.what()));
    }
    self->quit();
  });
}

// The engine writes the dump itself, into its log directory: a front end
// running as another user (the Linux tray beside the root service) may not
// write there, and the user finds it beside the log.
void save_dump(const control_context& c, std::function<void(std::string)> reply) {
  c.sys->spawn<caf::detached>([dump = c.dump, reply](caf::event_based_actor* self) {
    try {
      auto dir = platform::log_dir();
      if (!dir) {
        reply(error_reply("cannot save the dump: " + dir.err().message));
      } else {
        auto path = *dir + platform::path_separator() + dump_file_name();
        auto st = platform::write_file(path, dump().dump(2) + "\n", platform::file_mode::shared_with_group);
        reply(st ? nlohmann::json{{"ok", true}, {"path", path}}.dump() : error_reply(st.err().message));
      }
    } catch (const std::exception& e) {
      reply(error_reply(std::string("cannot build the dump: ") + e.what()));
    }
    self->quit();
  });
}

}  // namespace

void handle_control_request(const control_context& c, const std::string& req, std::function<void(std::string)> reply) {
  auto state = [&c] { return c.shared->status().state; };
  if (req == "ping") return reply(ok_reply());
  if (req == "status") return reply(c.status().dump());
  if (req == "dump") return send_dump(c, std::move(reply));
  if (req == "save-dump") return save_dump(c, std::move(reply));
  if (req == "check") return run_check(c, std::move(reply));
  if (req == "quit") {
    c.quit();
    return reply(ok_reply());
  }
  if (req == "show") {
    c.show();
    return reply(ok_reply());
  }
  if (req == "start") {
    if (state() != "Idle") return reply(error_reply("the engine is already started (" + state() + ")"));
    caf::anon_send(c.sup, start_atom_v);
    return reply(ok_reply());
  }
  if (req == "retry") {
    if (state() != "Failed") return reply(error_reply("retry is for a Failed engine; it is " + state()));
    caf::anon_send(c.sup, retry_atom_v);
    return reply(ok_reply());
  }
  if (req == "stop") {
    if (state() == "Idle") return reply(ok_reply());
    return stop_engine(c, std::move(reply));
  }
  if (req == "reload") {
    c.reload();
    return reply(ok_reply());
  }
  // The power watcher's path, for tests only: a normal run must not let a
  // client pause the engine.
  if (c.test_hooks && (req == "sleep" || req == "resume")) {
    if (req == "sleep")
      caf::anon_send(c.sup, sleep_atom_v);
    else
      caf::anon_send(c.sup, resume_atom_v);
    return reply(ok_reply());
  }
  reply(R"({"error":"unknown request"})");
}

}  // namespace drover::app
