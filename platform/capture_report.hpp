#pragma once
/// The capture as it stands now, for the diagnostics dump: what
/// capture_details() (platform/redirect.hpp) does not already say. Linux:
/// Drover's netfilter rules with their packet counters, the policy route
/// and the NFQUEUE statistics; Windows: nothing more (the filters, the
/// DLL's version and the file hashes are in capture_details()).
#include <string>
#include <utility>
#include <vector>

namespace drover::platform {

/// name -> text; blocking (runs iptables-save): not on an actor's shared
/// thread. Something that cannot be read says why in its text.
std::vector<std::pair<std::string, std::string>> capture_report();

}  // namespace drover::platform
