#pragma once
/// The tray's GDI and menu objects: its icon drawn from pixels and its popup
/// menu built from a tray::view, as RAII owners. Handles are `void*` so that
/// <windows.h> stays in the .cpp files.
#include <cstdint>
#include <vector>

#include "core/result.hpp"
#include "core/tray_model.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform::win {

/// The tray window's class and the icon's id: the shell knows the icon by
/// (window, id); a test finds both to stage explorer losing the icon.
inline constexpr const wchar_t* tray_window_class = L"DroverTrayWindow";
inline constexpr unsigned tray_icon_uid = 1;

namespace detail {
void destroy_icon(void* h) noexcept;  ///< DestroyIcon
void destroy_menu(void* h) noexcept;  ///< DestroyMenu
}  // namespace detail

using unique_icon = unique_handle_of<detail::destroy_icon>;
using unique_menu = unique_handle_of<detail::destroy_menu>;

/// A disc of `rgb` (0xRRGGBB) at the size the notification area draws
/// (GetSystemMetrics(SM_CXSMICON): 16 px at 100 %, 32 px at 200 %).
/// Error "no_tray" when GDI refuses.
result<unique_icon> make_disc_icon(uint32_t rgb);

/// A popup menu of `items`: ids as command ids, disabled grayed, checked
/// checked, a separator above those that ask for one. Error "no_tray".
result<unique_menu> make_menu(const std::vector<tray::item>& items);

/// Gives the items of `menu`, a menu that is open, the labels and states of
/// `items`. False, leaving it as it was, when `items` are other rows (other
/// ids, or separators elsewhere) than make_menu made it with.
bool update_menu(void* menu, const std::vector<tray::item>& items);

/// Repaints this thread's open popup menus: one changed while open keeps
/// its old pixels otherwise.
void redraw_open_menus();

}  // namespace drover::platform::win
