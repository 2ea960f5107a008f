#include "platform/windows/tray_pixels.hpp"

#include <cmath>

namespace drover::platform::win {

std::vector<uint32_t> disc_pixels(int size, uint32_t rgb) {
  if (size <= 0) return {};
  // 4×4 samples per pixel: enough for a smooth edge at 16 px, exact enough
  // that the inside stays fully opaque (a screenshot counts those pixels).
  constexpr int samples = 4;
  const double centre = size / 2.0;
  // Half a pixel in from the square's edge, so the rim is antialiased
  // instead of cut flat by the image's border.
  const double radius = size / 2.0 - 0.5;
  const uint32_t colour = rgb & 0xFFFFFFu;
  std::vector<uint32_t> out(static_cast<size_t>(size) * static_cast<size_t>(size), 0);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      int inside = 0;
      for (int sy = 0; sy < samples; ++sy) {
        for (int sx = 0; sx < samples; ++sx) {
          double dx = x + (sx + 0.5) / samples - centre;
          double dy = y + (sy + 0.5) / samples - centre;
          if (dx * dx + dy * dy <= radius * radius) ++inside;
        }
      }
      if (inside == 0) continue;  // transparent black: the corners
      auto alpha = static_cast<uint32_t>(std::lround(255.0 * inside / (samples * samples)));
      out[static_cast<size_t>(y) * static_cast<size_t>(size) + static_cast<size_t>(x)] = alpha << 24 | colour;
    }
  }
  return out;
}

std::wstring fit_units(std::wstring text, size_t max_units) {
  if (text.size() <= max_units) return text;
  text.resize(max_units);
  // A high surrogate at the end would be half a character.
  if (!text.empty() && text.back() >= 0xD800 && text.back() <= 0xDBFF) text.pop_back();
  return text;
}

std::wstring menu_text(const std::wstring& label) {
  std::wstring out;
  out.reserve(label.size());
  for (wchar_t c : label) {
    out.push_back(c);
    if (c == L'&') out.push_back(L'&');
  }
  return out;
}

}  // namespace drover::platform::win
