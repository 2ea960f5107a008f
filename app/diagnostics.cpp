#include "app/diagnostics.hpp"

#include <chrono>
#include <ctime>

#include "app/log_ring.hpp"
#include "core/packet.hpp"
#include "core/transition_log.hpp"
#include "platform/capture_report.hpp"
#include "platform/flow_owner.hpp"
#include "platform/os_info.hpp"
#include "platform/process_table.hpp"
#include "platform/redirect.hpp"

namespace drover::app {
namespace {

// Which compiler built this, from its own macros (none of the build's flags).
#if defined(__clang__)
constexpr const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* compiler = "gcc " __VERSION__;
#else
constexpr const char* compiler = "unknown";
#endif

#ifndef DROVER_BUILD_TYPE
#define DROVER_BUILD_TYPE ""
#endif
#ifndef DROVER_BUILT_FOR
#define DROVER_BUILT_FOR ""
#endif

nlohmann::json build_json() {
  return {{"version", DROVER_VERSION},
          {"compiler", compiler},
          {"build_type", DROVER_BUILD_TYPE},
          {"built_for", DROVER_BUILT_FOR},
          {"cplusplus", static_cast<long>(__cplusplus)}};
}

nlohmann::json os_json() {
  auto o = platform::describe_os();
  return {{"name", o.name},       {"release", o.release},           {"version", o.version},
          {"machine", o.machine}, {"distribution", o.distribution}, {"emulator", o.emulator}};
}

nlohmann::json config_json(const dump_sources& src, const config::config& cfg) {
  return {{"path", src.config_path},
          {"summary", cfg.describe()},
          // to_toml redacts by default: login and password read "***".
          {"toml", config::to_toml(cfg)},
          {"warnings", src.config_warnings},
          {"problem", src.shared->config_problem()}};
}

nlohmann::json state_json(const dump_sources& src, const engine_history& h) {
  auto transitions = nlohmann::json::array();
  for (auto& t : h.transitions)
    transitions.push_back({{"time", t.time},
                           {"from", t.from},
                           {"to", t.to},
                           {"event", t.event},
                           {"cause", t.cause},
                           {"detail", t.detail}});
  return {{"current", src.status.value("state", "")},
          {"detail", src.status.value("detail", "")},
          {"last_error", src.status.value("last_error", "")},
          {"transitions", std::move(transitions)}};
}

// The flow as its first packet looked: the app's socket as source, so the
// owner lookup finds the same socket the classifier found.
packet::view view_of(const flow_entry& f) {
  packet::view v;
  v.version = f.client.k == endpoint::kind::v6 ? packet::ip_version::v6 : packet::ip_version::v4;
  v.proto = std::string(f.protocol) == "udp" ? packet::l4_proto::udp : packet::l4_proto::tcp;
  v.src = f.client.ip;
  v.dst = f.destination.ip;
  v.src_port = f.client.port;
  v.dst_port = f.destination.port;
  return v;
}

nlohmann::json flows_json(const engine_shared& shared) {
  auto out = nlohmann::json::array();
  auto flows = shared.flows.live();
  if (flows.empty()) return out;
  auto owner = platform::make_flow_owner();
  auto targets = shared.targets();
  auto is_target = [&shared](const std::string& exe) { return shared.is_target(exe); };
  auto now = std::chrono::steady_clock::now();
  for (auto& f : flows) {
    uint32_t pid = 0;
    if (auto r = owner->owner(view_of(*f), {}, targets, is_target)) pid = *r;
    out.push_back({{"id", f->id},
                   {"protocol", f->protocol},
                   {"client", f->client.to_string()},
                   {"destination", f->destination.to_string()},
                   {"pid", pid},
                   {"process", pid ? platform::exe_name(pid) : std::string()},
                   {"bytes_in", f->bytes_in.load(std::memory_order_relaxed)},
                   {"bytes_out", f->bytes_out.load(std::memory_order_relaxed)},
                   {"age_s", std::chrono::duration_cast<std::chrono::seconds>(now - f->opened).count()}});
  }
  return out;
}

nlohmann::json targets_json(const engine_shared& shared) {
  auto out = nlohmann::json::array();
  for (auto pid : shared.targets()) out.push_back({{"pid", pid}, {"process", platform::exe_name(pid)}});
  return out;
}

// No log line names the login or password (nothing logs them); should one
// ever slip in, the dump still does not carry it. Secrets shorter than 4
// characters are left alone: masking them would garble every line.
void mask(std::string& line, const std::string& secret) {
  if (secret.size() < 4) return;
  for (auto at = line.find(secret); at != std::string::npos; at = line.find(secret, at + 3))
    line.replace(at, secret.size(), "***");
}

nlohmann::json log_json(const config::config& cfg) {
  auto lines = recent_log_lines();
  for (auto& l : lines) {
    mask(l, cfg.proxy.password);
    mask(l, cfg.proxy.login);
  }
  return {{"path", log_file_path()}, {"ring_capacity", log_ring_lines}, {"lines", lines}};
}

nlohmann::json capture_json() {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : platform::capture_details()) j[k] = v;
  for (auto& [k, v] : platform::capture_report()) j[k] = v;
  return j;
}

}  // namespace

nlohmann::json make_dump(const dump_sources& src) {
  auto cfg = src.shared->get_config();
  auto history = src.shared->history();
  nlohmann::json d;
  d["schema"] = 1;
  d["generated_at"] = iso8601_utc(std::chrono::system_clock::now());
  d["version"] = DROVER_VERSION;
  d["build"] = build_json();
  d["os"] = os_json();
  d["config"] = config_json(src, cfg);
  d["state"] = state_json(src, history);
  d["e3"] = {{"reconnects", history.e3.reconnects},
             {"driver_reopens", history.e3.driver_reopens},
             {"crash_dumps", history.e3.crash_dumps}};
  d["status"] = src.status;
  d["lifetime"] = src.lifetime;
  d["flows"] = flows_json(*src.shared);
  d["targets"] = targets_json(*src.shared);
  d["log"] = log_json(cfg);
  d["capture"] = capture_json();
  return d;
}

std::string dump_file_name() {
  std::time_t t = std::time(nullptr);
  char name[64];
  std::strftime(name, sizeof name, "drover-dump-%Y%m%d-%H%M%S.json", std::localtime(&t));
  return name;
}

}  // namespace drover::app
