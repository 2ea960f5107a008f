// The verbs that talk to a running instance over the control socket.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/commands.hpp"
#include "app/status_json.hpp"
#include "platform/control_socket.hpp"
#include "platform/paths.hpp"

namespace drover::app {
namespace {

// Sends a request; prints the "no running instance" message on failure.
std::optional<std::string> ask(const std::string& request, int& code) {
  auto r = platform::control_request(platform::control_socket_path(), request);
  if (!r) {
    std::fprintf(stderr, "drover: %s\n",
                 r.err().code == "no_instance" ? "no running instance" : r.err().message.c_str());
    code = r.err().code == "no_instance" ? exit_no_instance : exit_failure;
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

}  // namespace

int cmd_status(const options& o) {
  int code = exit_ok;
  if (o.watch) {
    // One JSON line per state change, until the instance stops.
    auto st = platform::control_watch(platform::control_socket_path(), [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      return true;
    });
    if (!st) {
      std::fprintf(stderr, "drover: no running instance\n");
      return exit_no_instance;
    }
    return exit_ok;
  }
  auto r = ask("status", code);
  if (!r) return code;
  auto j = parse(*r);
  if (!j) return exit_failure;
  if (o.json)
    std::printf("%s\n", j->dump(2).c_str());
  else
    std::fputs(to_text(*j).c_str(), stdout);
  return exit_ok;
}

int cmd_stop(const options&) {
  int code = exit_ok;
  if (!ask("stop", code)) return code;
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
  auto r = ask("dump", code);
  if (!r) return code;
  auto j = parse(*r);
  if (!j) return exit_failure;
  std::string out = o.out_path;
  if (out.empty()) {
    std::time_t t = std::time(nullptr);
    char name[64];
    std::strftime(name, sizeof name, "drover-dump-%Y%m%d-%H%M%S.json", std::localtime(&t));
    std::error_code ec;
    std::filesystem::create_directories(platform::log_dir(), ec);
    out = platform::log_dir() + "/" + name;
  }
  std::ofstream f(out);
  if (!(f << j->dump(2) << "\n")) {
    std::fprintf(stderr, "drover: cannot write %s\n", out.c_str());
    return exit_failure;
  }
  std::printf("%s\n", out.c_str());
  return exit_ok;
}

}  // namespace drover::app
