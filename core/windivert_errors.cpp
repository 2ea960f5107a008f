#include "core/windivert_errors.hpp"

namespace drover {

// The codes are those of WinDivert 2.2's documentation, plus 1114, which a
// kernel driver that cannot load at all gives (measured under Wine).
std::string windivert_open_error(uint32_t code, const std::string& os_text) {
  const std::string n = " (error " + std::to_string(code) + ")";
  switch (code) {
    case 2:  // ERROR_FILE_NOT_FOUND: the driver file
      return "WinDivert64.sys not found next to drover.exe" + n + ": reinstall Drover";
    case 5:  // ERROR_ACCESS_DENIED
      return "packet capture needs administrator rights" + n +
             ": start Drover again and accept the administrator prompt";
    case 87:  // ERROR_INVALID_PARAMETER: filter, layer, priority or flags
      return "WinDivert refused Drover's capture filter" + n +
             ": this is a bug in Drover, please report it with the output of `drover dump`";
    case 577:  // ERROR_INVALID_IMAGE_HASH
      return "Windows did not accept the WinDivert driver's signature" + n +
             ": install the pending Windows updates, then start Drover again";
    case 654:  // ERROR_DRIVER_FAILED_PRIOR_UNLOAD
      return "another version of the WinDivert driver is loaded by another program (zapret, GoodbyeDPI or "
             "similar)" +
             n + ": stop the other tool and reboot, then start Drover";
    case 1060:  // ERROR_SERVICE_DOES_NOT_EXIST
      return "the WinDivert driver is not installed" + n + ": reinstall Drover";
    case 1114:  // ERROR_DLL_INIT_FAILED: the driver was registered but could not start
    case 1275:  // ERROR_DRIVER_BLOCKED
      return "Windows blocked the WinDivert driver" + n +
             ": an antivirus, Memory Integrity (Core isolation) or a virtual machine without driver support "
             "stops it; allow WinDivert64.sys in the antivirus or turn Memory Integrity off, then start Drover";
    case 1753:  // EPT_S_NOT_REGISTERED: the Base Filtering Engine is off
      return "the Windows Base Filtering Engine service is disabled" + n +
             ": set the service \"Base Filtering Engine\" to Automatic, start it, then start Drover";
    default:
      return "WinDivert could not start packet capture" + n + (os_text.empty() ? "" : ": " + os_text);
  }
}

}  // namespace drover
