// Which process sent a packet, on Windows: the owner of its source port in
// the IP Helper tables (GetExtendedTcpTable / GetExtendedUdpTable with
// owner pids), IPv4 or IPv6 as the packet is. An unconnected UDP socket is
// listed by its local port too, so WebRTC's one-socket-many-peers is found.
// WinDivert's SOCKET layer, which reports a socket before its first packet,
// fills a cache in front of this (windivert_capture); the tables are the
// fallback for a packet that arrives first.
#include "platform/flow_owner.hpp"

#include <windows.h>
#include <winsock2.h>

#include <iphlpapi.h>  // after winsock2.h and windows.h, whose types these use
#include <ws2ipdef.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "platform/process_table.hpp"
#include "platform/windows/capture_state.hpp"

namespace drover::platform {
namespace {

// The table of one kind, with the owner pid of each row; grown until it fits
// (sockets open while we ask).
template <class Get>
result<std::vector<unsigned char>> table(Get get, const char* what) {
  std::vector<unsigned char> buf(16 * 1024);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto size = static_cast<DWORD>(buf.size());
    DWORD rc = get(buf.data(), &size);
    if (rc == NO_ERROR) return buf;
    if (rc != ERROR_INSUFFICIENT_BUFFER)
      return make_error("owner", std::string("cannot read the ") + what + " table (error " + std::to_string(rc) + ")");
    buf.resize(static_cast<size_t>(size) + 4096);
  }
  return make_error("owner", std::string("the ") + what + " table keeps growing");
}

bool same_v4(DWORD row_addr, const packet::view& v) {
  return row_addr == 0 || std::memcmp(&row_addr, v.src.data(), 4) == 0;  // 0: bound to every address
}
bool same_v6(const UCHAR* row_addr, const packet::view& v) {
  static const UCHAR any[16] = {};
  return std::memcmp(row_addr, any, 16) == 0 || std::memcmp(row_addr, v.src.data(), 16) == 0;
}

// The pid owning the packet's source socket; error "no_socket" when no row
// has its port, "pid_unknown" when the row names no process (a socket in
// TIME_WAIT; Wine names none at all). Ports in the rows are in network byte
// order in the low 16 bits.
result<uint32_t> row_owner(const packet::view& v) {
  const uint16_t port_be = htons(v.src_port);
  const bool tcp = v.proto == packet::l4_proto::tcp, v4 = v.version == packet::ip_version::v4;
  const ULONG family = v4 ? AF_INET : AF_INET6;
  auto get = [&](void* b, DWORD* n) {
    return tcp ? ::GetExtendedTcpTable(b, n, FALSE, family, TCP_TABLE_OWNER_PID_ALL, 0)
               : ::GetExtendedUdpTable(b, n, FALSE, family, UDP_TABLE_OWNER_PID, 0);
  };
  auto buf = table(get, tcp ? "TCP" : "UDP");
  if (!buf) return buf.err();
  const void* t = buf->data();
  auto match = [&](DWORD port, bool addr_ok) { return static_cast<uint16_t>(port) == port_be && addr_ok; };
  if (tcp && v4) {
    auto* rows = static_cast<const MIB_TCPTABLE_OWNER_PID*>(t);
    for (DWORD i = 0; i < rows->dwNumEntries; ++i)
      if (match(rows->table[i].dwLocalPort, same_v4(rows->table[i].dwLocalAddr, v))) return rows->table[i].dwOwningPid;
  } else if (tcp) {
    auto* rows = static_cast<const MIB_TCP6TABLE_OWNER_PID*>(t);
    for (DWORD i = 0; i < rows->dwNumEntries; ++i)
      if (match(rows->table[i].dwLocalPort, same_v6(rows->table[i].ucLocalAddr, v))) return rows->table[i].dwOwningPid;
  } else if (v4) {
    auto* rows = static_cast<const MIB_UDPTABLE_OWNER_PID*>(t);
    for (DWORD i = 0; i < rows->dwNumEntries; ++i)
      if (match(rows->table[i].dwLocalPort, same_v4(rows->table[i].dwLocalAddr, v))) return rows->table[i].dwOwningPid;
  } else {
    auto* rows = static_cast<const MIB_UDP6TABLE_OWNER_PID*>(t);
    for (DWORD i = 0; i < rows->dwNumEntries; ++i)
      if (match(rows->table[i].dwLocalPort, same_v6(rows->table[i].ucLocalAddr, v))) return rows->table[i].dwOwningPid;
  }
  return make_error("no_socket", "no socket owns local port " + std::to_string(v.src_port) + " any more");
}

result<uint32_t> port_owner(const packet::view& v) {
  auto pid = row_owner(v);
  if (pid && *pid == 0)
    return make_error("pid_unknown", "the socket of local port " + std::to_string(v.src_port) + " names no process");
  return pid;
}

class table_owner final : public flow_owner {
 public:
  result<uint32_t> owner(const packet::view& v, const packet_origin&, const std::vector<uint32_t>& candidates,
                         const std::function<bool(const std::string&)>& is_target) override {
    if (v.proto != packet::l4_proto::tcp && v.proto != packet::l4_proto::udp)
      return make_error("owner", "no ports to look up an owner by");
    // A socket closed between its packet and this look (one datagram and
    // close) cannot be told apart from one that never was: an error, so the
    // flow is never sent direct.
    // What the SOCKET layer reported as the socket connected or bound comes
    // first: it is known before the first packet and needs no table read.
    result<uint32_t> pid = 0u;
    auto proto = v.proto == packet::l4_proto::udp ? flow_proto::udp : flow_proto::tcp;
    if (auto reported = win::shared_capture().owner({v.version, proto, v.src_port}))
      pid = *reported;
    else
      pid = port_owner(v);
    if (!pid) return pid.err();
    if (std::find(candidates.begin(), candidates.end(), *pid) != candidates.end()) return *pid;
    auto name = exe_name(*pid);
    if (name.empty()) return make_error("owner", "cannot tell the program of process " + std::to_string(*pid));
    return is_target(name) ? *pid : 0u;
  }
  bool reports_new_processes() const override { return false; }
};

}  // namespace

std::unique_ptr<flow_owner> make_flow_owner() { return std::make_unique<table_owner>(); }

}  // namespace drover::platform
