#include "platform/windows/com_apartment.hpp"

#include <windows.h>
// objbase.h needs windows.h first.
#include <objbase.h>

#include <type_traits>

namespace drover::platform::win {

static_assert(std::is_same_v<HRESULT, long>, "com_apartment keeps an HRESULT as long");

com_apartment::com_apartment() : hr_(::CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED | COINIT_DISABLE_OLE1DDE)) {}

com_apartment::~com_apartment() {
  if (SUCCEEDED(hr_)) ::CoUninitialize();
}

}  // namespace drover::platform::win
