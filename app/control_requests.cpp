#include "app/control_requests.hpp"

#include <chrono>

#include "app/status_json.hpp"
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

}  // namespace

void handle_control_request(const control_context& c, const std::string& req, std::function<void(std::string)> reply) {
  auto state = [&c] { return c.shared->status().state; };
  if (req == "ping") return reply(ok_reply());
  if (req == "status") return reply(c.status().dump());
  if (req == "dump") return reply(c.dump().dump());
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
