// Drover's rules as iptables-save shows them (with counters), the TPROXY
// policy route, and the queue's line in /proc/net/netfilter/nfnetlink_queue.
#include "platform/capture_report.hpp"

#include <fstream>
#include <sstream>

#include "core/filter.hpp"
#include "platform/linux/linux_redirect.hpp"
#include "platform/linux/run_command.hpp"

namespace drover::platform {
namespace {

// stdout and stderr of argv; "" and a reason in `why` when it could not
// run or failed.
std::string output_of(const std::vector<std::string>& argv, std::string& why) {
  auto r = run_command(argv);
  if (!r.started) {
    why = r.output;
    return "";
  }
  if (r.exit_code != 0) why = argv[0] + " failed: " + r.output;
  return r.output;
}

// The table headers and every line naming one of Drover's chains.
std::string drover_rules(const char* tool) {
  std::string why;
  auto saved = output_of({tool, "-c"}, why);
  if (!why.empty()) return why;
  std::istringstream in(saved);
  std::string line, out, table;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '*') table = line;
    if (line.find("DROVER") == std::string::npos) continue;
    if (!table.empty()) out += table + "\n";
    table.clear();
    out += line + "\n";
  }
  return out.empty() ? "none installed" : out;
}

std::string policy_route() {
  std::string why;
  auto mark = std::to_string(filter::mark::redirect_udp);
  auto table = std::to_string(filter::linux_params{}.route_table);
  auto out = output_of({"ip", "-4", "rule", "show", "fwmark", mark}, why);
  out += output_of({"ip", "-4", "route", "show", "table", table}, why);
  if (!why.empty()) return why;
  return out.empty() ? "none" : out;
}

// queue_number peer_portid queue_total copy_mode copy_range queue_dropped
// user_dropped id_sequence 1 (net/netfilter/nfnetlink_queue.c).
std::string queue_stats() {
  std::ifstream f("/proc/net/netfilter/nfnetlink_queue");
  if (!f) return "no /proc/net/netfilter/nfnetlink_queue (no queue bound in this network namespace)";
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    unsigned long long v[9] = {};
    for (auto& x : v) in >> x;
    if (!in || v[0] != capture_queue_num) continue;
    std::ostringstream os;
    os << "queue " << v[0] << ": bound by netlink port " << v[1] << ", " << v[2] << " waiting for a verdict, copy mode "
       << v[3] << " range " << v[4] << ", dropped by the kernel (queue full) " << v[5]
       << ", dropped (netlink buffer full) " << v[6] << ", packets queued so far " << v[7];
    return os.str();
  }
  return "queue " + std::to_string(capture_queue_num) + " is not bound";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> capture_report() {
  return {{"rules_v4", drover_rules("iptables-save")},
          {"rules_v6", drover_rules("ip6tables-save")},
          {"policy_route", policy_route()},
          {"queue", queue_stats()}};
}

}  // namespace drover::platform
