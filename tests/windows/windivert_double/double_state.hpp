#pragma once
// Internal to the WinDivert.dll test double: an open handle's state, shared
// by windivert_double.cpp (open, send, close, ...) and double_receive.cpp.
#include <windows.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "tests/windows/windivert_double/double_control.hpp"

namespace windivert_double {

/// One open handle; shared with receives still running when it is closed.
struct handle_state {
  HANDLE event = nullptr;  // the HANDLE callers see; set to wake a blocked receive
  long number = 0;         // N of open-N.txt
  windivert::layer layer = windivert::layer_network;
  uint64_t flags = 0;
  std::wstring dir;
  std::atomic<bool> shut_recv{false}, shut_send{false}, closed{false}, lost{false};
  std::mutex mu;  // guards params
  uint64_t params[3] = {4096, 2000, 4194304};
  ~handle_state() { ::CloseHandle(event); }
};

/// The state of a handle WinDivertOpen gave and WinDivertClose has not taken back, or null.
std::shared_ptr<handle_state> find_handle(void* handle);

/// Whether the test made this handle's driver go away (lose-handle, lose-handle-N); sticky.
bool is_lost(handle_state& h);

/// Completes an OVERLAPPED as the driver would: `e` (0 or a Win32 error) as
/// the NTSTATUS GetOverlappedResult turns back into it, `bytes` as its count.
void complete(OVERLAPPED* ov, DWORD e, unsigned bytes);

/// SetLastError(code), then FALSE: how every export fails.
inline BOOL fail(DWORD code) { return ::SetLastError(code), FALSE; }

}  // namespace windivert_double
