#include "platform/routes.hpp"

// winsock2 before windows.h, both before iphlpapi: the order matters.
#include <winsock2.h>
#include <ws2ipdef.h>

#include <windows.h>

#include <iphlpapi.h>
#include <netioapi.h>

namespace drover::platform {

bool has_default_route() {
  PMIB_IPFORWARD_TABLE2 table = nullptr;
  // When the table cannot be read we cannot tell: say yes, so that the
  // engine starts instead of waiting for a network it may already have.
  if (::GetIpForwardTable2(AF_UNSPEC, &table) != NO_ERROR || !table) return true;
  bool found = false;
  for (ULONG i = 0; i < table->NumEntries && !found; ++i)
    found = table->Table[i].DestinationPrefix.PrefixLength == 0;  // 0.0.0.0/0 or ::/0
  ::FreeMibTable(table);
  return found;
}

}  // namespace drover::platform
