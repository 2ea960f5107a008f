#pragma once
/// RAII owners of Windows handles and the conversions every Windows file of
/// the platform layer needs at the OS boundary (UTF-8 <-> UTF-16, error
/// text). Defined in platform/windows/win_handle.cpp so that <windows.h>
/// stays out of here: handles are held as `void*`.
#include <cstdint>
#include <string>

namespace drover::platform::win {

namespace detail {
void close_kernel_handle(void* h) noexcept;  ///< CloseHandle
void close_registry_key(void* h) noexcept;   ///< RegCloseKey
void destroy_window(void* h) noexcept;       ///< DestroyWindow (on the window's own thread)
}  // namespace detail

/// Owns one handle and frees it with `Close`. Both null and
/// INVALID_HANDLE_VALUE mean "none": Win32 APIs return either. Moves, never copies.
template <void (*Close)(void*) noexcept>
class unique_handle_of {
 public:
  unique_handle_of() = default;
  explicit unique_handle_of(void* h) : h_(h) {}
  ~unique_handle_of() { reset(); }
  unique_handle_of(unique_handle_of&& other) noexcept : h_(other.release()) {}
  unique_handle_of& operator=(unique_handle_of&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  unique_handle_of(const unique_handle_of&) = delete;
  unique_handle_of& operator=(const unique_handle_of&) = delete;

  void* get() const { return h_; }
  explicit operator bool() const { return valid(h_); }
  /// Gives the handle up without closing it.
  void* release() {
    void* h = h_;
    h_ = nullptr;
    return h;
  }
  /// Closes the current handle (if any) and owns `h`.
  void reset(void* h = nullptr) {
    if (valid(h_)) Close(h_);
    h_ = h;
  }

 private:
  static bool valid(void* h) { return h != nullptr && h != reinterpret_cast<void*>(~static_cast<uintptr_t>(0)); }
  void* h_ = nullptr;
};

using unique_handle = unique_handle_of<detail::close_kernel_handle>;
using unique_hkey = unique_handle_of<detail::close_registry_key>;
using unique_window = unique_handle_of<detail::destroy_window>;

/// UTF-8 -> UTF-16 (invalid bytes become U+FFFD).
std::wstring to_wide(const std::string& utf8);
/// UTF-16 -> UTF-8 (lone surrogates become U+FFFD).
std::string to_utf8(const std::wstring& wide);
/// The system's text for a Windows or WSA error code, UTF-8, with the number:
/// "Access is denied (5)".
std::string error_text(unsigned long code);
/// error_text(GetLastError()): call right after the failing API.
std::string last_error_text();
/// GetLastError(), for callers that must branch on the code.
unsigned long last_error();

}  // namespace drover::platform::win
