#pragma once
/// The window classes of the main thread's hidden windows (the main loop's,
/// platform/windows/main_loop.cpp, and the tray's, platform/windows/tray.cpp),
/// registered the one way. <windows.h> stays out of here, so the procedure's
/// type is WNDPROC spelled out (window_class.cpp checks it against it).
#include <cstdint>

struct HWND__;  // <windows.h>'s HWND (STRICT, mingw's default) is HWND__*

namespace drover::platform::win {

/// The main loop's hidden window: WM_CLOSE to it (taskkill) stops Drover; a
/// test finds it by this class.
inline constexpr const wchar_t* main_window_class = L"DroverMainWindow";

/// A window procedure: (HWND, UINT, WPARAM, LPARAM) -> LRESULT on x86-64.
using window_proc = std::intptr_t (*)(HWND__*, unsigned, std::uintptr_t, std::intptr_t);

/// Registers the window class `name` of this executable with `proc`, for any
/// thread; a class registered already (an earlier call) is left as it is.
/// False when Windows refused: creating a window of it then fails and says why.
bool register_window_class(const wchar_t* name, window_proc proc);

}  // namespace drover::platform::win
