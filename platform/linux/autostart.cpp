#include "platform/autostart.hpp"

namespace drover::platform {
namespace {
// The engine is a system service here: it starts at boot, not at login.
error unsupported() {
  return error{"unsupported", "on Linux the engine starts at boot as a service: sudo systemctl enable drover"};
}
}  // namespace

result<autostart_state> autostart_status() { return unsupported(); }
status autostart_enable() { return unsupported(); }
status autostart_disable() { return unsupported(); }
status autostart_refresh() { return unsupported(); }

}  // namespace drover::platform
