#pragma once
// Internal to the Linux redirect (netfilter_rules.cpp, nfqueue.cpp): the
// netfilter details the OS-neutral seam keeps to itself.
#include <cstddef>
#include <cstdint>

#include "core/filter.hpp"
#include "platform/redirect.hpp"

namespace drover::platform {

/// The NFQUEUE number: one engine per network namespace, so one queue.
inline constexpr uint16_t capture_queue_num = 0;
/// Netlink receive buffer: a small one overflows under bursts of new flows.
inline constexpr size_t capture_receive_buffer = 8u << 20;
inline constexpr uint32_t capture_max_queue_len = 4096;

/// The rule set's parameters for a plan.
filter::linux_params linux_params_for(const redirect_plan& plan);

}  // namespace drover::platform
