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
};

/// Removes any stale rules (a crashed run), then installs fresh ones.
result<std::unique_ptr<redirect_rules>> install_rules(const filter::inputs& in, const filter::linux_params& p);
/// Removes Drover's rules and routes; safe when none exist.
void remove_stale_rules(const filter::linux_params& p);

}  // namespace drover::platform
