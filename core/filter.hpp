#pragma once
/// From one set of inputs, what each OS's packet capture must see: the
/// WinDivert NETWORK-layer filter string and the Linux netfilter rule set.
#include <cstdint>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"

namespace drover::filter {

struct inputs {
  uint32_t own_pid = 0;            ///< not expressible at the NETWORK layer; kept for the SOCKET layer
  std::vector<endpoint> upstream;  ///< proxy address(es): never captured (self-loop layer 2)
  std::vector<cidr> extra_skip;
  bool skip_multicast = true;
};

/// Packet marks shared by the verdicts and the rules.
namespace mark {
constexpr uint32_t own = 0x7;  ///< SO_MARK of Drover's own sockets
/// The raw socket's replies to apps (spoofed from the peer): not tracked,
/// so the app's answer to a peer it first heard from is a new flow to
/// classify, not the "reply" of a connection the peer opened (direct).
constexpr uint32_t own_reply = 0x8;
constexpr uint32_t redirect_tcp = 0x10;
constexpr uint32_t redirect_udp = 0x20;
constexpr uint32_t refuse = 0x30;
constexpr uint32_t direct = 0x40;  ///< decided "direct": saved so UDP is not re-queued
}  // namespace mark

/// WinDivert allows at most 256 compiled filter instructions.
constexpr int windivert_max_instructions = 256;

/// Builds the NETWORK-layer filter: outbound TCP/UDP, no loopback, no
/// upstream, no skip ranges, in the grammar WinDivert 2.2's own compiler
/// accepts (`not` never before a parenthesis; per-family exclusions behind
/// `ip ? (...) : (...)`). Fails if it would exceed WinDivert's limit.
result<std::string> windivert(const inputs& in);
/// Number of comparisons in a filter string (upper bound of instructions).
int windivert_instructions(const std::string& filter);

struct linux_params {
  uint16_t queue_num = 0;
  uint16_t tcp_port = 0;  ///< REDIRECT listener (127.0.0.1)
  uint16_t udp_port = 0;  ///< TPROXY listener (127.0.0.1)
  uint32_t route_table = 120;
  bool fail_open = false;  ///< --queue-bypass: engine gone => new flows go direct (a leak)
};

enum class family { v4, v6 };

/// iptables-restore --noflush input installing Drover's chains for one family.
std::string linux_install(const inputs& in, const linux_params& p, family f);
/// From `iptables-save` output, an iptables-restore --noflush script that
/// puts linux_install's rules in place of whatever Drover rules exist, in
/// one transaction per table: existing chains are flushed and refilled,
/// existing jumps replaced. No moment without rules, so a restart (a config
/// edit, a crashed run's leftovers) sends no target direct.
std::string linux_replace_script(const std::string& saved, const inputs& in, const linux_params& p, family f);
/// Commands (argv) removing Drover's chains and jumps; safe to run when absent.
std::vector<std::vector<std::string>> linux_cleanup(family f);
/// From `iptables-save` output, an iptables-restore --noflush script that
/// removes every Drover jump and chain in one step (empty when none).
std::string linux_cleanup_script(const std::string& saved);
/// `ip rule` / `ip route` argv lists for the TPROXY policy route.
std::vector<std::vector<std::string>> linux_route_add(const linux_params& p, family f);
std::vector<std::vector<std::string>> linux_route_del(const linux_params& p, family f);

}  // namespace drover::filter
