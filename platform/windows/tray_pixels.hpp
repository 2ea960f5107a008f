#pragma once
/// The pure parts of the Windows tray: the icon's pixels and the fitting of
/// texts into NOTIFYICONDATAW's fixed arrays. No <windows.h> here, so both
/// are tested on their own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace drover::platform::win {

/// A `size`×`size` image, rows top-down, each pixel 0xAARRGGBB with straight
/// (not premultiplied) alpha, as a 32-bit icon DIB holds it: a disc of `rgb`
/// (0xRRGGBB) filling the square, its edge antialiased, the corners
/// transparent.
std::vector<uint32_t> disc_pixels(int size, uint32_t rgb);

/// `text` cut to at most `max_units` UTF-16 units, never between the two
/// halves of a surrogate pair (the arrays hold `max_units` + the terminator).
std::wstring fit_units(std::wstring text, size_t max_units);

/// A label as menu text: '&' doubled, since a single one marks a mnemonic.
std::wstring menu_text(const std::wstring& label);

}  // namespace drover::platform::win
