// WinDivertRecvEx of the test double: records from in-LAYER/ (see
// double_control.hpp), batched as documented, blocking with a short poll,
// or overlapped on a thread of its own.
#include <windows.h>

#include "tests/windows/windivert_double/double_exports.hpp"
#include "tests/windows/windivert_double/double_state.hpp"

namespace wd = windivert;
using namespace windivert_double;

namespace {

// NTSTATUS for an OVERLAPPED's Internal, which GetOverlappedResult turns
// back into the Win32 code.
ULONG_PTR nt_status(DWORD e) {
  switch (e) {
    case 0:
      return 0;
    case ERROR_NO_DATA:
      return 0xC00000D9;  // STATUS_PIPE_EMPTY, as the driver completes it
    case ERROR_INVALID_HANDLE:
      return 0xC0000008;  // STATUS_INVALID_HANDLE
    case ERROR_INSUFFICIENT_BUFFER:
      return 0xC0000023;  // STATUS_BUFFER_TOO_SMALL
    default:
      return 0xC000000D;  // STATUS_INVALID_PARAMETER
  }
}

}  // namespace

void windivert_double::complete(OVERLAPPED* ov, DWORD e, unsigned bytes) {
  ov->InternalHigh = bytes;
  ov->Internal = nt_status(e);
  // The low bit only tells the system not to queue to a completion port.
  HANDLE ev = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(ov->hEvent) & ~ULONG_PTR(1));
  if (ev) ::SetEvent(ev);
}

namespace {

// One blocking receive: a batch of the oldest in-LAYER/*.pkt records that
// fits both buffers. Returns 0 or the Win32 error.
DWORD receive(handle_state& h, uint8_t* packet, unsigned packet_len, unsigned* recv_len, wd::address* addr,
              unsigned* addr_len) {
  unsigned max = addr ? (addr_len ? *addr_len : address_size) / address_size : 1;
  if (max == 0) return ERROR_INVALID_PARAMETER;
  if (max > wd::batch_max) max = wd::batch_max;
  std::wstring in = path(h.dir, std::wstring(L"in-") + layer_name(h.layer)), done = path(h.dir, L"done");
  ::CreateDirectoryW(done.c_str(), nullptr);
  for (;;) {
    if (is_lost(h)) return ERROR_INVALID_HANDLE;
    if (h.closed) return ERROR_NO_DATA;
    bool shut = h.shut_recv;  // read before looking, so a record published before shutdown is still seen
    unsigned n = 0, used = 0;
    DWORD result = 0;
    for (const auto& name : list(in, L"*.pkt")) {
      if (n == max) break;
      if (name.size() < 4 || name.compare(name.size() - 4, 4, L".pkt") != 0) continue;
      auto rec = read_all(path(in, name));
      if (!rec) continue;  // taken by another handle meanwhile
      size_t len = rec->size() < address_size ? 0 : rec->size() - address_size;
      bool fits = used + len <= packet_len;
      if (!fits && n > 0) break;  // the rest waits for the next call
      std::wstring taken = path(done, std::wstring(layer_name(h.layer)) + L"-" + name);
      ::DeleteFileW(taken.c_str());                                       // a test that reuses a name
      if (!::MoveFileW(path(in, name).c_str(), taken.c_str())) continue;  // another handle won it
      if (rec->size() < address_size) continue;                           // not a record: dropped
      if (addr) std::memcpy(&addr[n], rec->data(), address_size);
      size_t copy = fits ? len : packet_len - used;
      if (copy) std::memcpy(packet + used, rec->data() + address_size, copy);
      used += static_cast<unsigned>(copy);
      ++n;
      if (!fits) {  // documented: truncated, and the call fails
        result = ERROR_INSUFFICIENT_BUFFER;
        break;
      }
    }
    if (n > 0) {
      if (recv_len) *recv_len = used;
      if (addr_len) *addr_len = n * static_cast<unsigned>(address_size);
      return result;
    }
    if (shut) return ERROR_NO_DATA;
    ::WaitForSingleObject(h.event, 10);  // the short poll; shutdown and close end it at once
  }
}

// An overlapped receive, on a thread of its own that holds a reference to
// this DLL: Drover may free the library right after closing the handle.
struct pending {
  std::shared_ptr<handle_state> h;
  uint8_t* packet;
  unsigned packet_len;
  wd::address* addr;
  unsigned* addr_len;
  OVERLAPPED* ov;
  HMODULE self;
};

DWORD WINAPI pending_main(void* arg) {
  auto* job = static_cast<pending*>(arg);
  unsigned got = 0;
  DWORD e = receive(*job->h, job->packet, job->packet_len, &got, job->addr, job->addr_len);
  complete(job->ov, e, got);
  HMODULE self = job->self;
  delete job;
  ::FreeLibraryAndExitThread(self, 0);
}

}  // namespace

extern "C" DOUBLE_EXPORT int WinDivertRecvEx(void* handle, void* packet, unsigned packet_len, unsigned* recv_len,
                                             uint64_t, wd::address* addr, unsigned* addr_len, _OVERLAPPED* overlapped) {
  auto h = find_handle(handle);
  if (!h || is_lost(*h)) return fail(ERROR_INVALID_HANDLE);
  if (h->flags & wd::flag_send_only) return fail(ERROR_INVALID_PARAMETER);
  auto* p = static_cast<uint8_t*>(packet);
  if (!overlapped) {
    DWORD e = receive(*h, p, packet_len, recv_len, addr, addr_len);
    return e ? fail(e) : TRUE;
  }
  // Overlapped: the receive runs on a thread of its own and completes the
  // OVERLAPPED as the driver would (the count in InternalHigh, for
  // GetOverlappedResult). CancelIoEx does not reach it: shut down or close.
  overlapped->Internal = 0x103;  // STATUS_PENDING
  auto* job = new pending{h, p, packet_len, addr, addr_len, overlapped, nullptr};
  HANDLE t = nullptr;
  if (::GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, reinterpret_cast<LPCWSTR>(&pending_main),
                           &job->self))
    t = ::CreateThread(nullptr, 0, pending_main, job, 0, nullptr);
  if (!t) {
    if (job->self) ::FreeLibrary(job->self);
    delete job;
    return fail(ERROR_NOT_ENOUGH_MEMORY);
  }
  ::CloseHandle(t);
  return fail(ERROR_IO_PENDING);
}
