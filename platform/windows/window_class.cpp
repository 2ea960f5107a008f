#include "platform/windows/window_class.hpp"

#include <windows.h>

#include <type_traits>

namespace drover::platform::win {

static_assert(std::is_same_v<window_proc, WNDPROC>, "window_class.hpp's window_proc must be WNDPROC");

bool register_window_class(const wchar_t* name, window_proc proc) {
  WNDCLASSEXW wc{};
  wc.cbSize = sizeof wc;
  wc.lpfnWndProc = proc;
  wc.hInstance = ::GetModuleHandleW(nullptr);
  wc.lpszClassName = name;
  return ::RegisterClassExW(&wc) != 0 || ::GetLastError() == ERROR_CLASS_ALREADY_EXISTS;
}

}  // namespace drover::platform::win
