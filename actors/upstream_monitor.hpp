#pragma once
#include "core/config.hpp"
#include "messages/messages.hpp"

namespace drover {

/// While Active: keeps one idle UDP association with the proxy on its own
/// thread. If the proxy drops it and cannot be reached again at once, the
/// supervisor hears `upstream_failure{unreachable}` — a dead proxy is
/// noticed in milliseconds, even when no flow is opening. With `udp` false
/// (a TCP-only proxy has no association to hold) it checks TCP connect and
/// greeting every 2 s instead.
upstream_monitor_actor::behavior_type upstream_monitor(upstream_monitor_actor::pointer self,
                                                       config::proxy_section proxy, supervisor_actor parent, bool udp);

}  // namespace drover
