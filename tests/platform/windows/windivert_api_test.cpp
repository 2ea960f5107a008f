// The hand-written WinDivert 2.2 API against the documented layout: a wrong
// offset would make every captured packet's interface, process or event
// garbage once the DLL fills these structures.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "third_party/windivert/windivert_api.hpp"

namespace {

TEST(WinDivertApi, AddressLayoutIsTheDocumentedOne) {
  EXPECT_EQ(sizeof(windivert::address), 80u);
  EXPECT_EQ(offsetof(windivert::address, network), 16u);
  EXPECT_EQ(offsetof(windivert::data_socket, process_id), 16u);
  EXPECT_EQ(offsetof(windivert::data_socket, local_addr), 20u);
  EXPECT_EQ(offsetof(windivert::data_socket, remote_addr), 36u);
  EXPECT_EQ(offsetof(windivert::data_socket, local_port), 52u);
  EXPECT_EQ(offsetof(windivert::data_socket, protocol), 56u);
  EXPECT_LE(sizeof(windivert::data_socket), 64u);
  EXPECT_LE(sizeof(windivert::data_reflect), 64u);
}

TEST(WinDivertApi, BitFieldsLandWhereTheDriverPutsThem) {
  windivert::address a{};
  a.layer = windivert::layer_socket;
  a.event = windivert::event_socket_connect;
  a.outbound = 1;
  a.ipv6 = 1;
  unsigned char bytes[sizeof a];
  std::memcpy(bytes, &a, sizeof a);
  EXPECT_EQ(bytes[8], 3);             // Layer: the low 8 bits of the word after the timestamp
  EXPECT_EQ(bytes[9], 4);             // Event: the next 8
  EXPECT_EQ(bytes[10], 0x02 | 0x10);  // Sniffed:1 Outbound:1 Loopback:1 Impostor:1 IPv6:1 ...
}

TEST(WinDivertApi, ConstantsAreTheDocumentedOnes) {
  EXPECT_EQ(windivert::batch_max, 255u);
  EXPECT_EQ(windivert::flag_sniff | windivert::flag_recv_only, 0x5u);
  EXPECT_EQ(windivert::param_version_minor, 4);
  EXPECT_STREQ(windivert::symbol::compile_filter, "WinDivertHelperCompileFilter");
}

}  // namespace
