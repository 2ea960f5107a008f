#include "actors/procscan.hpp"
#include "actors/exceptions.hpp"

#include <algorithm>
#include <chrono>

#include "platform/process_table.hpp"

namespace drover {

std::vector<uint32_t> scan_targets(const engine_shared& shared) {
  auto cfg = shared.get_config();
  auto me = platform::own_pid();
  std::vector<uint32_t> out;
  for (auto& p : platform::list_processes())
    if (p.pid != me && cfg.is_target(p.exe)) out.push_back(p.pid);
  std::sort(out.begin(), out.end());
  return out;
}

procscan_actor::behavior_type procscan(procscan_actor::pointer self, std::shared_ptr<engine_shared> shared) {
  report_exceptions(self);
  constexpr auto interval = std::chrono::seconds(2);
  self->delayed_send(self, interval, scan_atom_v);
  return {
      [=](scan_atom) {
        shared->set_targets(scan_targets(*shared));
        self->delayed_send(self, interval, scan_atom_v);
      },
  };
}

}  // namespace drover
