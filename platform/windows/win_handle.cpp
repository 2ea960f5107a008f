#include "platform/windows/win_handle.hpp"

#include <windows.h>

namespace drover::platform::win {

namespace detail {
void close_kernel_handle(void* h) noexcept { ::CloseHandle(h); }
void close_registry_key(void* h) noexcept { ::RegCloseKey(static_cast<HKEY>(h)); }
void destroy_window(void* h) noexcept { ::DestroyWindow(static_cast<HWND>(h)); }
}  // namespace detail

std::wstring to_wide(const std::string& utf8) {
  if (utf8.empty()) return {};
  int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) return {};
  std::wstring out(static_cast<size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string to_utf8(const std::wstring& wide) {
  if (wide.empty()) return {};
  int n = ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0, nullptr, nullptr);
  if (n <= 0) return {};
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n, nullptr, nullptr);
  return out;
}

std::string error_text(unsigned long code) {
  wchar_t* buf = nullptr;
  DWORD n =
      ::FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                       nullptr, code, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
  std::wstring text = n > 0 && buf ? std::wstring(buf, n) : std::wstring();
  if (buf) ::LocalFree(buf);
  // System messages end in ".\r\n"; the caller adds its own punctuation.
  while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r' || text.back() == L' ' || text.back() == L'.'))
    text.pop_back();
  std::string number = "(" + std::to_string(code) + ")";
  return text.empty() ? "error " + number : to_utf8(text) + " " + number;
}

std::string last_error_text() { return error_text(::GetLastError()); }

unsigned long last_error() { return ::GetLastError(); }

}  // namespace drover::platform::win
