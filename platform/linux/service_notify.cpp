#include "platform/service_notify.hpp"

#include <systemd/sd-daemon.h>

namespace drover::platform {
namespace {
// Newlines would start a new assignment in the notify datagram.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}
}  // namespace

// unset_environment = 0: a restart of the engine inside the process
// sends STATUS again, so NOTIFY_SOCKET must stay.
void notify_ready(const std::string& status) { sd_notifyf(0, "READY=1\nSTATUS=%s", one_line(status).c_str()); }
void notify_status(const std::string& status) { sd_notifyf(0, "STATUS=%s", one_line(status).c_str()); }
void notify_stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace drover::platform
