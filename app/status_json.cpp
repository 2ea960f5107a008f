#include "app/status_json.hpp"

#include <sstream>

namespace drover::app {

nlohmann::json to_json(const status_snapshot& s) {
  return {{"state", s.state},
          {"detail", s.detail},
          {"uptime_s", s.uptime_s},
          {"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          {"tcp_flows", s.tcp_flows},
          {"udp_flows", s.udp_flows},
          {"target_pids", s.target_pids},
          {"reconnect_attempt", s.reconnect_attempt},
          {"last_error", s.last_error},
          {"flows_redirected", s.flows_redirected},
          {"flows_direct", s.flows_direct},
          {"flows_refused", s.flows_refused},
          {"udp_dropped", s.udp_dropped},
          {"flows_unattributed", s.flows_unattributed},
          {"flows_failed", s.flows_failed},
          {"udp_available", s.udp_available}};
}

std::string to_text(const nlohmann::json& j) {
  std::ostringstream os;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  os << "state:        " << str("state");
  if (!str("detail").empty()) os << " (" << str("detail") << ")";
  os << "\n";
  if (j.value("reconnect_attempt", 0) > 0) os << "attempt:      " << j.value("reconnect_attempt", 0) << "\n";
  os << "uptime:       " << j.value("uptime_s", 0) << " s\n";
  os << "traffic:      " << j.value("bytes_in", 0ull) << " B in, " << j.value("bytes_out", 0ull) << " B out\n";
  os << "flows:        " << j.value("tcp_flows", 0) << " TCP, " << j.value("udp_flows", 0) << " UDP open\n";
  os << "target pids: ";
  if (j.contains("target_pids"))
    for (auto& p : j["target_pids"]) os << " " << p.get<uint32_t>();
  os << "\n";
  if (!str("last_error").empty()) os << "last error:   " << str("last_error") << "\n";
  return os.str();
}

std::string proxy_where(const config::proxy_section& p) {
  return (p.host.find(':') != std::string::npos ? "[" + p.host + "]" : p.host) + ":" + std::to_string(p.port);
}

nlohmann::json probe_to_json(const platform::probe_report& rep, const config::proxy_section& p) {
  nlohmann::json j;
  j["ok"] = rep.ok;
  j["tcp_ok"] = rep.tcp_ok;
  j["udp_ok"] = rep.udp_ok;
  j["unreachable"] = rep.unreachable;
  j["proxy"] = proxy_where(p);
  j["addresses"] = nlohmann::json::array();
  for (auto& a : rep.addresses) j["addresses"].push_back(a.to_string());
  j["udp_check"] = p.udp_check.to_string();
  j["auth"] = p.auth;
  j["pipelining"] = rep.pipelining;
  j["total_ms"] = rep.total_millis;
  j["steps"] = nlohmann::json::array();
  for (auto& s : rep.steps)
    j["steps"].push_back({{"name", s.name}, {"ok", s.ok}, {"ms", s.millis}, {"detail", s.detail}});
  if (!rep.ok) j["failure"] = rep.failure;
  if (!rep.udp_ok) j["udp_failure"] = rep.udp_failure;
  return j;
}

}  // namespace drover::app
