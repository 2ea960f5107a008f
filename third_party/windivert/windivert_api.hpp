#pragma once
// The part of WinDivert 2.2's user-mode API that Drover uses, written from
// its documentation (doc/windivert.html, include/windivert.h of the
// WinDivert-2.2.2-A release): types, constants and the signatures of the
// functions, as pointer types, because WinDivert.dll is loaded at run time
// (LoadLibraryW from drover.exe's own directory, then GetProcAddress), never
// linked. No <windows.h> here: HANDLE is void*, BOOL is int, OVERLAPPED is
// only named.
#include <cstddef>
#include <cstdint>

struct _OVERLAPPED;

namespace windivert {

enum layer : int32_t {
  layer_network = 0,          ///< packets to and from this machine
  layer_network_forward = 1,  ///< forwarded packets
  layer_flow = 2,             ///< flow established / deleted events (sniff only)
  layer_socket = 3,           ///< bind, connect, listen, accept, close events, with the process id
  layer_reflect = 4,          ///< WinDivert handles opened and closed
};

enum event : uint8_t {
  event_network_packet = 0,
  event_flow_established = 1,
  event_flow_deleted = 2,
  event_socket_bind = 3,
  event_socket_connect = 4,
  event_socket_listen = 5,
  event_socket_accept = 6,
  event_socket_close = 7,
  event_reflect_open = 8,
  event_reflect_close = 9,
};

constexpr uint64_t flag_sniff = 0x0001;
constexpr uint64_t flag_drop = 0x0002;
constexpr uint64_t flag_recv_only = 0x0004;
constexpr uint64_t flag_send_only = 0x0008;
constexpr uint64_t flag_no_install = 0x0010;

enum param : int32_t {
  param_queue_length = 0,  ///< packets (32 .. 16384, default 4096)
  param_queue_time = 1,    ///< ms (100 .. 16000, default 2000)
  param_queue_size = 2,    ///< bytes (64 KB .. 32 MB, default 4 MB)
  param_version_major = 3,
  param_version_minor = 4,
};

enum shutdown_how : int32_t { shutdown_recv = 1, shutdown_send = 2, shutdown_both = 3 };

constexpr unsigned batch_max = 0xFF;                ///< packets per RecvEx/SendEx
constexpr unsigned mtu_max = 40 + 0xFFFF;           ///< largest packet
constexpr int16_t priority_highest = 30000;         ///< handles of higher priority see packets first
constexpr int16_t priority_lowest = -30000;

/// NETWORK layer: the interface a packet came in on (needed to inject one inbound).
struct data_network {
  uint32_t if_idx;
  uint32_t sub_if_idx;
};

/// FLOW and SOCKET layers. Addresses are IPv4-mapped IPv6, in host byte
/// order, as four 32-bit words.
struct data_socket {
  uint64_t endpoint_id;
  uint64_t parent_endpoint_id;
  uint32_t process_id;
  uint32_t local_addr[4];
  uint32_t remote_addr[4];
  uint16_t local_port;
  uint16_t remote_port;
  uint8_t protocol;
};
using data_flow = data_socket;

struct data_reflect {
  int64_t timestamp;
  uint32_t process_id;
  layer handle_layer;
  uint64_t flags;
  int16_t priority;
};

/// WINDIVERT_ADDRESS: 80 bytes, the layer's data at offset 16.
struct address {
  int64_t timestamp;
  uint32_t layer : 8;
  uint32_t event : 8;
  uint32_t sniffed : 1;
  uint32_t outbound : 1;
  uint32_t loopback : 1;
  uint32_t impostor : 1;
  uint32_t ipv6 : 1;
  uint32_t ip_checksum : 1;
  uint32_t tcp_checksum : 1;
  uint32_t udp_checksum : 1;
  uint32_t reserved1 : 8;
  uint32_t reserved2;
  union {
    data_network network;
    data_flow flow;
    data_socket socket;
    data_reflect reflect;
    uint8_t reserved3[64];
  };
};
static_assert(sizeof(address) == 80, "WINDIVERT_ADDRESS is 80 bytes");
static_assert(offsetof(address, network) == 16, "the layer data starts at offset 16");

// Signatures (x64 has one calling convention). A HANDLE of -1
// (INVALID_HANDLE_VALUE) from open means failure; GetLastError tells why.
using open_fn = void* (*)(const char* filter, layer l, int16_t priority, uint64_t flags);
using recv_ex_fn = int (*)(void* handle, void* packet, unsigned packet_len, unsigned* recv_len, uint64_t flags,
                           address* addr, unsigned* addr_len, _OVERLAPPED* overlapped);
using send_ex_fn = int (*)(void* handle, const void* packet, unsigned packet_len, unsigned* send_len, uint64_t flags,
                           const address* addr, unsigned addr_len, _OVERLAPPED* overlapped);
using shutdown_fn = int (*)(void* handle, shutdown_how how);
using close_fn = int (*)(void* handle);
using set_param_fn = int (*)(void* handle, param p, uint64_t value);
using get_param_fn = int (*)(void* handle, param p, uint64_t* value);
using compile_filter_fn = int (*)(const char* filter, layer l, char* object, unsigned object_len,
                                  const char** error_str, unsigned* error_pos);
using calc_checksums_fn = int (*)(void* packet, unsigned packet_len, address* addr, uint64_t flags);

/// The exported names, as GetProcAddress wants them.
namespace symbol {
constexpr const char* open = "WinDivertOpen";
constexpr const char* recv_ex = "WinDivertRecvEx";
constexpr const char* send_ex = "WinDivertSendEx";
constexpr const char* shutdown = "WinDivertShutdown";
constexpr const char* close = "WinDivertClose";
constexpr const char* set_param = "WinDivertSetParam";
constexpr const char* get_param = "WinDivertGetParam";
constexpr const char* compile_filter = "WinDivertHelperCompileFilter";
constexpr const char* calc_checksums = "WinDivertHelperCalcChecksums";
}  // namespace symbol

}  // namespace windivert
