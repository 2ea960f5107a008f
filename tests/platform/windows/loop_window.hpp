#pragma once
// The main loop's window of this process, as the system (or a test standing
// in for it) finds it to send messages: top-level where a desktop exists,
// message-only where none does (Wine without a display). Null while no loop
// runs here. Only this process's: a drover.exe another test runs at the same
// time has a window of the same class.
#include <windows.h>

inline HWND loop_window() {
  for (HWND parent : {HWND(nullptr), HWND_MESSAGE}) {
    HWND w = nullptr;
    while ((w = FindWindowExW(parent, w, L"DroverMainWindow", nullptr)) != nullptr) {
      DWORD pid = 0;
      GetWindowThreadProcessId(w, &pid);
      if (pid == GetCurrentProcessId()) return w;
    }
  }
  return nullptr;
}
