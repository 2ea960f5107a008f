#include "platform/windows/tray_gdi.hpp"

#include <windows.h>

#include <cstring>
#include <string>

#include "platform/windows/tray_pixels.hpp"

namespace drover::platform::win {

namespace detail {
void destroy_icon(void* h) noexcept { ::DestroyIcon(static_cast<HICON>(h)); }
void destroy_menu(void* h) noexcept { ::DestroyMenu(static_cast<HMENU>(h)); }
}  // namespace detail

namespace {

void delete_gdi_object(void* h) noexcept { ::DeleteObject(static_cast<HGDIOBJ>(h)); }
using unique_gdi_object = unique_handle_of<delete_gdi_object>;

UINT item_state(const tray::item& it) {
  return (it.enabled ? MFS_ENABLED : MFS_GRAYED) | (it.checked ? MFS_CHECKED : MFS_UNCHECKED);
}

BOOL CALLBACK redraw_if_menu(HWND window, LPARAM) {
  wchar_t name[16] = {};
  // "#32768" is the system class of popup menu windows.
  if (::GetClassNameW(window, name, 16) > 0 && std::wstring(name) == L"#32768" && ::IsWindowVisible(window))
    ::RedrawWindow(window, nullptr, nullptr, RDW_INVALIDATE | RDW_ERASE | RDW_FRAME | RDW_UPDATENOW);
  return TRUE;
}

// A menu's rows from the top: each item's id, 0 for a separator (ids start
// at 1), as make_menu lays them out.
std::vector<UINT> rows_of(const std::vector<tray::item>& items) {
  std::vector<UINT> rows;
  for (const auto& it : items) {
    if (it.separator_before && !rows.empty()) rows.push_back(0);
    rows.push_back(static_cast<UINT>(it.id));
  }
  return rows;
}

std::vector<UINT> rows_of(HMENU menu) {
  std::vector<UINT> rows;
  int n = ::GetMenuItemCount(menu);
  for (int i = 0; i < n; ++i) {
    MENUITEMINFOW mii{};
    mii.cbSize = sizeof mii;
    mii.fMask = MIIM_FTYPE | MIIM_ID;
    if (!::GetMenuItemInfoW(menu, static_cast<UINT>(i), TRUE, &mii)) return {};  // by position
    rows.push_back(mii.fType & MFT_SEPARATOR ? 0 : mii.wID);
  }
  return rows;
}

}  // namespace

result<unique_icon> make_disc_icon(uint32_t rgb) {
  int size = ::GetSystemMetrics(SM_CXSMICON);
  if (size <= 0) size = 16;
  std::vector<uint32_t> pixels = disc_pixels(size, rgb);

  BITMAPINFO info{};
  info.bmiHeader.biSize = sizeof info.bmiHeader;
  info.bmiHeader.biWidth = size;
  info.bmiHeader.biHeight = -size;  // top-down, as disc_pixels' rows are
  info.bmiHeader.biPlanes = 1;
  info.bmiHeader.biBitCount = 32;
  info.bmiHeader.biCompression = BI_RGB;
  void* bits = nullptr;
  unique_gdi_object colour(::CreateDIBSection(nullptr, &info, DIB_RGB_COLORS, &bits, nullptr, 0));
  if (!colour || !bits) return make_error("no_tray", "cannot draw the tray icon: " + last_error_text());
  // 0xAARRGGBB stored little-endian is B, G, R, A: the DIB's byte order.
  std::memcpy(bits, pixels.data(), pixels.size() * sizeof(uint32_t));

  // The AND mask all zero (opaque): with an alpha channel it is not used,
  // but CreateIconIndirect requires one. Rows are WORD-aligned.
  std::vector<unsigned char> mask_bits(static_cast<size_t>((size + 15) / 16 * 2 * size), 0);
  unique_gdi_object mask(::CreateBitmap(size, size, 1, 1, mask_bits.data()));
  if (!mask) return make_error("no_tray", "cannot draw the tray icon's mask: " + last_error_text());

  ICONINFO icon_info{};
  icon_info.fIcon = TRUE;
  icon_info.hbmMask = static_cast<HBITMAP>(mask.get());
  icon_info.hbmColor = static_cast<HBITMAP>(colour.get());
  unique_icon icon(::CreateIconIndirect(&icon_info));  // copies both bitmaps
  if (!icon) return make_error("no_tray", "cannot make the tray icon: " + last_error_text());
  return icon;
}

result<unique_menu> make_menu(const std::vector<tray::item>& items) {
  unique_menu menu(::CreatePopupMenu());
  if (!menu) return make_error("no_tray", "cannot make the tray menu: " + last_error_text());
  auto h = static_cast<HMENU>(menu.get());
  for (const auto& it : items) {
    if (it.separator_before && ::GetMenuItemCount(h) > 0) ::AppendMenuW(h, MF_SEPARATOR, 0, nullptr);
    std::wstring label = menu_text(to_wide(it.label));
    UINT flags = MF_STRING | (it.enabled ? MF_ENABLED : MF_GRAYED) | (it.checked ? MF_CHECKED : MF_UNCHECKED);
    if (!::AppendMenuW(h, flags, static_cast<UINT_PTR>(it.id), label.c_str()))
      return make_error("no_tray", "cannot fill the tray menu: " + last_error_text());
  }
  return menu;
}

bool update_menu(void* menu, const std::vector<tray::item>& items) {
  auto h = static_cast<HMENU>(menu);
  if (rows_of(h) != rows_of(items)) return false;
  for (const auto& it : items) {
    std::wstring label = menu_text(to_wide(it.label));
    MENUITEMINFOW mii{};
    mii.cbSize = sizeof mii;
    mii.fMask = MIIM_STRING | MIIM_STATE;
    mii.fState = item_state(it);
    mii.dwTypeData = label.data();
    ::SetMenuItemInfoW(h, static_cast<UINT>(it.id), FALSE, &mii);
  }
  return true;
}

void redraw_open_menus() { ::EnumThreadWindows(::GetCurrentThreadId(), redraw_if_menu, 0); }

}  // namespace drover::platform::win
