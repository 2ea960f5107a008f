// A test double of WinDivert.dll (2.2): the exports Drover resolves, with
// the documented semantics, and files instead of a driver, so that a test
// feeds packets and reads what Drover injects (protocol: double_control.hpp).
// Handles, open, send, shutdown, close and parameters are here; receiving
// in double_receive.cpp, the filter compiler and checksums in
// double_filter.cpp and double_checksum.cpp.
#include <windows.h>

#include <algorithm>
#include <cstdlib>
#include <cwchar>
#include <map>
#include <mutex>

#include "tests/windows/windivert_double/double_exports.hpp"
#include "tests/windows/windivert_double/double_state.hpp"

namespace wd = windivert;
using namespace windivert_double;

namespace {

std::mutex table_mu;
std::map<HANDLE, std::shared_ptr<handle_state>> table;  // guarded by table_mu
std::mutex out_mu;
std::map<std::wstring, long> out_next;  // guarded by out_mu: per out/ directory, the next number to try

}  // namespace

namespace windivert_double {

// The driver "goes away" when the test says so, and stays gone for the handle.
bool is_lost(handle_state& h) {
  if (!h.lost &&
      (exists(path(h.dir, L"lose-handle")) || exists(path(h.dir, L"lose-handle-" + std::to_wstring(h.number)))))
    h.lost = true;
  return h.lost;
}

std::shared_ptr<handle_state> find_handle(void* handle) {
  std::lock_guard<std::mutex> lock(table_mu);
  auto it = table.find(handle);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace windivert_double

namespace {

DWORD open_error_code(const std::wstring& dir, wd::layer l) {
  for (const std::wstring& name : {L"open-error-" + std::wstring(layer_name(l)), std::wstring(L"open-error")}) {
    auto text = read_all(path(dir, name));
    if (!text) continue;
    unsigned long code = std::strtoul(text->c_str(), nullptr, 10);
    return code ? static_cast<DWORD>(code) : ERROR_GEN_FAILURE;
  }
  return 0;
}

// The documented flag rules, and each layer's mandatory flags.
bool flags_valid(wd::layer l, uint64_t f) {
  const uint64_t known = 0x3F;  // SNIFF DROP RECV_ONLY SEND_ONLY NO_INSTALL FRAGMENTS
  if ((f & ~known) || (f & 0x3) == 0x3 || (f & 0xC) == 0xC) return false;
  if (l == wd::layer_socket) return (f & wd::flag_recv_only) != 0;
  if (l == wd::layer_flow || l == wd::layer_reflect) return (f & 0x5) == 0x5;
  return true;
}

// The length of the IPv4 or IPv6 packet at p (from its header), or 0.
size_t ip_length(const uint8_t* p, size_t avail) {
  if (avail >= 20 && (p[0] >> 4) == 4) return static_cast<size_t>(p[2] << 8 | p[3]);
  if (avail >= 40 && (p[0] >> 4) == 6) return 40 + static_cast<size_t>(p[4] << 8 | p[5]);
  return 0;
}

}  // namespace

extern "C" {

DOUBLE_EXPORT void* WinDivertOpen(const char* filter, wd::layer layer, int16_t priority, uint64_t flags) {
  std::wstring dir = control_dir();
  if (dir.empty()) return ::SetLastError(ERROR_PATH_NOT_FOUND), INVALID_HANDLE_VALUE;
  if (!filter || layer < wd::layer_network || layer > wd::layer_reflect || !flags_valid(layer, flags) ||
      priority < wd::priority_lowest || priority > wd::priority_highest)
    return ::SetLastError(ERROR_INVALID_PARAMETER), INVALID_HANDLE_VALUE;
  // A filter object from WinDivertHelperCompileFilter is "@" + the text.
  std::string text = filter[0] == '@' ? filter + 1 : filter;
  bool compiled = WinDivertHelperCompileFilter(text.c_str(), layer, nullptr, 0, nullptr, nullptr);
  DWORD error = compiled ? open_error_code(dir, layer) : ERROR_INVALID_PARAMETER;
  std::string rec = "filter=" + text + "\nlayer=" + std::to_string(layer) + "\npriority=" + std::to_string(priority) +
                    "\nflags=" + std::to_string(flags) +
                    "\nresult=" + (error ? "error " + std::to_string(error) : std::string("handle")) + "\n";
  long number = publish_numbered(dir, L"open-", 0, L".txt", rec, 1);
  if (number < 0) return ::SetLastError(ERROR_WRITE_FAULT), INVALID_HANDLE_VALUE;
  if (error) return ::SetLastError(error), INVALID_HANDLE_VALUE;
  auto h = std::make_shared<handle_state>();
  // A real kernel handle: unique, never INVALID_HANDLE_VALUE, and the event a
  // blocked receive waits on.
  h->event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (!h->event) return INVALID_HANDLE_VALUE;
  h->number = number, h->layer = layer, h->flags = flags, h->dir = dir;
  std::lock_guard<std::mutex> lock(table_mu);
  table[h->event] = h;
  ::SetLastError(0);
  return h->event;
}

DOUBLE_EXPORT int WinDivertSendEx(void* handle, const void* packet, unsigned packet_len, unsigned* send_len, uint64_t,
                                  const wd::address* addr, unsigned addr_len, _OVERLAPPED* overlapped) {
  auto h = find_handle(handle);
  if (!h || is_lost(*h)) return fail(ERROR_INVALID_HANDLE);
  if (h->shut_send) return fail(ERROR_NO_DATA);
  if ((h->flags & wd::flag_recv_only) || (h->layer != wd::layer_network && h->layer != wd::layer_network_forward) ||
      !packet || !addr || addr_len == 0 || addr_len % address_size || addr_len / address_size > wd::batch_max)
    return fail(ERROR_INVALID_PARAMETER);
  // Packet boundaries come from the IP headers, as in the driver; the
  // buffer must hold exactly as many packets as addresses (stricter than the
  // driver, to catch a batch built wrong).
  const auto* p = static_cast<const uint8_t*>(packet);
  size_t n = addr_len / address_size, off = 0;
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < n; ++i) {
    size_t len = ip_length(p + off, packet_len - off);
    if (len == 0 || len > packet_len - off) return fail(ERROR_INVALID_PARAMETER);
    spans.emplace_back(off, len);
    off += len;
  }
  if (off != packet_len) return fail(ERROR_INVALID_PARAMETER);
  std::wstring out = path(h->dir, L"out");
  ::CreateDirectoryW(out.c_str(), nullptr);
  {
    std::lock_guard<std::mutex> lock(out_mu);  // one writer here keeps out/ in send order
    long& next = out_next[out];
    if (next == 0) {  // after what an earlier process left
      next = 1;
      for (const auto& name : list(out, L"*.pkt")) next = std::max(next, std::wcstol(name.c_str(), nullptr, 10) + 1);
    }
    for (size_t i = 0; i < n; ++i) {
      long got = publish_numbered(out, L"", 6, L".pkt", record(addr[i], p + spans[i].first, spans[i].second), next);
      if (got < 0) return fail(ERROR_WRITE_FAULT);
      next = got + 1;
    }
  }
  if (send_len) *send_len = packet_len;
  if (overlapped) complete(overlapped, 0, packet_len);  // done at once: DeviceIoControl would return TRUE
  return TRUE;
}

DOUBLE_EXPORT int WinDivertShutdown(void* handle, wd::shutdown_how how) {
  auto h = find_handle(handle);
  if (!h || is_lost(*h)) return fail(ERROR_INVALID_HANDLE);
  if (how < wd::shutdown_recv || how > wd::shutdown_both) return fail(ERROR_INVALID_PARAMETER);
  if (how & wd::shutdown_recv) h->shut_recv = true;
  if (how & wd::shutdown_send) h->shut_send = true;
  ::SetEvent(h->event);
  return TRUE;
}

DOUBLE_EXPORT int WinDivertClose(void* handle) {
  std::shared_ptr<handle_state> h;
  {
    std::lock_guard<std::mutex> lock(table_mu);
    auto it = table.find(handle);
    if (it == table.end()) return fail(ERROR_INVALID_HANDLE);
    h = it->second;
    table.erase(it);
  }
  // A receive still blocked ends with ERROR_NO_DATA; the event itself goes
  // with the last reference.
  h->closed = true;
  ::SetEvent(h->event);
  write_all(path(h->dir, L"closed-" + std::to_wstring(h->number)), "");
  return TRUE;
}

DOUBLE_EXPORT int WinDivertSetParam(void* handle, wd::param p, uint64_t value) {
  auto h = find_handle(handle);
  if (!h || is_lost(*h)) return fail(ERROR_INVALID_HANDLE);
  static const uint64_t lo[3] = {32, 100, 65535}, hi[3] = {16384, 16000, 33554432};
  if (p < wd::param_queue_length || p > wd::param_queue_size || value < lo[p] || value > hi[p])
    return fail(ERROR_INVALID_PARAMETER);  // the versions are read-only
  std::lock_guard<std::mutex> lock(h->mu);
  h->params[p] = value;
  return TRUE;
}

DOUBLE_EXPORT int WinDivertGetParam(void* handle, wd::param p, uint64_t* value) {
  auto h = find_handle(handle);
  if (!h || is_lost(*h)) return fail(ERROR_INVALID_HANDLE);
  if (!value || p < wd::param_queue_length || p > wd::param_version_minor) return fail(ERROR_INVALID_PARAMETER);
  std::lock_guard<std::mutex> lock(h->mu);
  *value = p == wd::param_version_major || p == wd::param_version_minor ? 2 : h->params[p];
  return TRUE;
}

}  // extern "C"
