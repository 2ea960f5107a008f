// The verbs that talk to a running instance over the control socket.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "app/commands.hpp"
#include "app/status_json.hpp"
#include "platform/control_socket.hpp"
#include "platform/paths.hpp"
#include "platform/safe_file.hpp"

namespace drover::app {
namespace {

// Says why no engine answered; exit 3 (no instance) or 1 (not allowed).
int no_answer(const error& e) {
  if (e.code != "no_instance") {  // permission_denied, impostor, no_reply
    std::fprintf(stderr, "drover: %s\n", e.message.c_str());
    return exit_failure;
  }
  auto note = stale_rules_note();
  std::fprintf(stderr, "drover: %s\n", note.empty() ? "no running instance" : note.c_str());
  return exit_no_instance;
}

// Sends a request; says why on failure.
std::optional<std::string> ask(const std::string& request, int& code,
                               int timeout_ms = platform::control_request_timeout_ms) {
  auto r = platform::control_request(platform::control_socket_path(), request, timeout_ms);
  if (!r) {
    code = no_answer(r.err());
    return std::nullopt;
  }
  return *r;
}

std::optional<nlohmann::json> parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    std::fprintf(stderr, "drover: the running instance sent an unreadable answer\n");
    return std::nullopt;
  }
  return j;
}

// A status answer names one of the engine's states; anything else (an error
// reply, a missing or unknown state) must not pass for a status.
bool has_valid_state(const nlohmann::json& j) {
  static const std::set<std::string> states{"Idle", "Starting", "Active", "Reconnecting", "Failed"};
  return j.is_object() && j.contains("state") && j["state"].is_string() && states.count(j["state"].get<std::string>());
}

void report_invalid_state(const nlohmann::json& j) {
  std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                        ? j["error"].get<std::string>()
                        : (j.is_object() && j.contains("state") ? "state " + j["state"].dump() : "no state");
  std::fprintf(stderr, "drover: the running instance sent no valid state (%s)\n", why.c_str());
}

}  // namespace

int cmd_status(const options& o) {
  int code = exit_ok;
  if (o.watch) {
    // One JSON line per state change, until the instance stops.
    bool broken = false;
    auto st = platform::control_watch(platform::control_socket_path(), [&broken](const std::string& line) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !has_valid_state(j)) {
        if (j.is_discarded())
          std::fprintf(stderr, "drover: the running instance sent an unreadable answer\n");
        else
          report_invalid_state(j);
        broken = true;
        return false;
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      return true;
    });
    if (!st) return no_answer(st.err());
    return broken ? exit_failure : exit_ok;
  }
  auto r = ask("status", code);
  if (!r) return code;
  auto j = parse(*r);
  if (!j) return exit_failure;
  if (!has_valid_state(*j)) {
    report_invalid_state(*j);
    return exit_failure;
  }
  if (o.json)
    std::printf("%s\n", j->dump(2).c_str());
  else
    std::fputs(to_text(*j).c_str(), stdout);
  return exit_ok;
}

int cmd_stop(const options&) {
  int code = exit_ok;
  // "quit": the process stops ("stop" would only take the engine to Idle).
  if (!ask("quit", code)) return code;
  // Wait until the instance has cleaned up and released its socket.
  auto path = platform::control_socket_path();
  for (int i = 0; i < 100; ++i) {
    if (!platform::control_request(path, "ping", 200)) {
      std::printf("drover: stopped\n");
      return exit_ok;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr, "drover: the instance did not stop within 5 s\n");
  return exit_failure;
}

int cmd_dump(const options& o) {
  int code = exit_ok;
  // The engine looks up the process of every open flow: more than a status.
  auto r = ask("dump", code, 15000);
  if (!r) return code;
  auto j = parse(*r);
  if (!j) return exit_failure;
  std::string out = o.out_path;
  if (out.empty()) {
    auto dir = platform::dump_dir();
    if (!dir) {
      std::fprintf(stderr, "drover: %s (give --out PATH)\n", dir.err().message.c_str());
      return exit_failure;
    }
    std::time_t t = std::time(nullptr);
    char name[64];
    std::strftime(name, sizeof name, "drover-dump-%Y%m%d-%H%M%S.json", std::localtime(&t));
    out = (std::filesystem::u8path(*dir) / name).u8string();  // the OS's own separator
  }
  if (auto st = platform::write_file(out, j->dump(2) + "\n", platform::file_mode::shared_with_group); !st) {
    std::fprintf(stderr, "drover: %s\n", st.err().message.c_str());
    return exit_failure;
  }
  std::printf("%s\n", out.c_str());
  return exit_ok;
}

}  // namespace drover::app
