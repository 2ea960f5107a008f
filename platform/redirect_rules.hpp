#pragma once
/// The OS rules that steer decided flows to the engine (Linux: Drover's
/// iptables chains and the TPROXY policy route). RAII: removed on destruction.
#include <memory>

#include "core/filter.hpp"
#include "core/result.hpp"

namespace drover::platform {

class redirect_rules {
 public:
  virtual ~redirect_rules() = default;
  /// True while every chain and the queue rule are still in place.
  virtual bool intact() const = 0;
  /// Puts new rules in place of these (new listener ports, skip ranges)
  /// without a moment in between where none exist.
  virtual status update(const filter::inputs& in, const filter::linux_params& p) = 0;
};

/// Installs Drover's rules, replacing any that exist (a crashed run's) in
/// place: there is no moment without rules.
result<std::unique_ptr<redirect_rules>> install_rules(const filter::inputs& in, const filter::linux_params& p);
/// Removes Drover's rules and routes; safe when none exist.
void remove_stale_rules(const filter::linux_params& p);
/// True when Drover's chains exist in this network namespace (read with
/// iptables-save: needs root). After a crash they hold every new flow.
bool leftover_rules_present();

}  // namespace drover::platform
