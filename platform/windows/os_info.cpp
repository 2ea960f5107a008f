// The running system: RtlGetVersion (GetVersionEx lies to programs without a
// compatibility manifest), the product name from the registry, and Wine's
// own version when it is Wine.
#include "platform/os_info.hpp"

#include <windows.h>

#include <string>

namespace drover::platform {
namespace {

using rtl_get_version_fn = LONG(WINAPI*)(OSVERSIONINFOW*);
using wine_get_version_fn = const char*(CDECL*)();

std::string narrow(const wchar_t* w) {
  int n = ::WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return "";
  std::string out(static_cast<size_t>(n - 1), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, w, -1, out.data(), n, nullptr, nullptr);
  return out;
}

std::string registry_text(const wchar_t* value) {
  wchar_t buf[256] = {};
  DWORD size = sizeof buf - sizeof(wchar_t);
  if (::RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", value, RRF_RT_REG_SZ,
                     nullptr, buf, &size) != ERROR_SUCCESS)
    return "";
  return narrow(buf);
}

const char* machine_name(WORD arch) {
  switch (arch) {
    case PROCESSOR_ARCHITECTURE_AMD64:
      return "amd64";
    case PROCESSOR_ARCHITECTURE_ARM64:
      return "arm64";
    case PROCESSOR_ARCHITECTURE_INTEL:
      return "x86";
    default:
      return "";
  }
}

template <class Fn>
Fn ntdll_function(const char* name) {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll ? reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, name))) : nullptr;
}

}  // namespace

os_info describe_os() {
  os_info o;
  o.name = "Windows";
  OSVERSIONINFOW v{};
  v.dwOSVersionInfoSize = sizeof v;
  if (auto get = ntdll_function<rtl_get_version_fn>("RtlGetVersion"); get && get(&v) == 0) {
    o.release = std::to_string(v.dwMajorVersion) + "." + std::to_string(v.dwMinorVersion) + "." +
                std::to_string(v.dwBuildNumber);
    o.version = narrow(v.szCSDVersion);
  }
  auto product = registry_text(L"ProductName");
  auto display = registry_text(L"DisplayVersion");
  o.distribution = display.empty() ? product : product + " " + display;
  SYSTEM_INFO si{};
  ::GetNativeSystemInfo(&si);
  o.machine = machine_name(si.wProcessorArchitecture);
  if (auto wine = ntdll_function<wine_get_version_fn>("wine_get_version"))
    if (const char* w = wine()) o.emulator = std::string("Wine ") + w;
  return o;
}

}  // namespace drover::platform
