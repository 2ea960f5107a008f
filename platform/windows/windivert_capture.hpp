#pragma once
/// Internal to platform/windows: the flow capture on WinDivert. One
/// NETWORK-layer handle sees every outbound TCP/UDP packet the redirect's
/// filter lets through (the NETWORK layer cannot filter by process): each
/// is classified through the per-port decision table (core/divert_rewrite),
/// a new flow is decided by the engine, and the packet is reinjected,
/// reflected to the TCP listener, taken for the UDP relay or refused. A
/// SOCKET-layer handle (sniffing) reports which process holds each socket
/// and when it closes.
#include <memory>

#include "core/result.hpp"
#include "platform/redirect.hpp"

namespace drover::platform::win {

struct windivert_library;

/// The SOCKET-layer handle's filter (sniffing connect, bind and close).
inline constexpr const char* socket_layer_filter = "tcp or udp";

/// Opens both handles with the installed redirect's filter; a WinDivertOpen
/// failure is the sentence core/windivert_errors has for its code.
result<std::unique_ptr<flow_capture>> open_windivert_capture(std::shared_ptr<windivert_library> lib);

}  // namespace drover::platform::win
