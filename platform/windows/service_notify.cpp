// Windows has no systemd: `drover run` is started by the Run key, the tray or
// a shell, and nothing waits for a READY. (A Windows service would report
// through SetServiceStatus, which is not this seam.)
#include "platform/service_notify.hpp"

namespace drover::platform {

void notify_ready(const std::string&) {}
void notify_status(const std::string&) {}
void notify_stopping() {}

}  // namespace drover::platform
