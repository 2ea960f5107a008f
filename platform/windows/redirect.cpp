// The Windows redirect (WinDivert) is the next step; until it exists every
// part of the seam says so plainly, and the engine goes Failed with that
// sentence instead of crashing or pretending to capture.
#include "platform/redirect.hpp"

namespace drover::platform {
namespace {
error not_built() {
  return make_error("driver_gone", "packet capture not built yet: this Windows build has no WinDivert support");
}
}  // namespace

result<std::unique_ptr<redirector>> install_redirect(const redirect_plan&) { return not_built(); }
void remove_stale_redirect() {}
bool leftover_redirect_present() { return false; }
result<std::unique_ptr<flow_capture>> open_flow_capture() { return not_built(); }
result<endpoint> original_dst(native_socket) { return not_built(); }
status prepare_udp_listener(native_socket) { return ok(); }
result<udp_received> receive_udp(native_socket, uint8_t*, size_t) { return not_built(); }
result<std::unique_ptr<udp_delivery>> open_udp_delivery() { return not_built(); }
status exclude_from_capture(native_socket) { return ok(); }
status set_receive_buffer(native_socket, int) { return ok(); }

}  // namespace drover::platform
