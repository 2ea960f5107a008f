// The tray icon's pixels and the texts fitted into NOTIFYICONDATAW.
#include "platform/windows/tray_pixels.hpp"

#include <gtest/gtest.h>

namespace drover::platform::win {
namespace {

uint32_t at(const std::vector<uint32_t>& p, int size, int x, int y) {
  return p[static_cast<size_t>(y) * static_cast<size_t>(size) + static_cast<size_t>(x)];
}

TEST(TrayPixels, DiscIsOpaqueInsideTransparentInCornersSoftAtTheEdge) {
  for (int size : {16, 20, 24, 32}) {
    auto p = disc_pixels(size, 0x2EB84B);
    ASSERT_EQ(p.size(), static_cast<size_t>(size * size));
    // The centre and the pixels around it: the exact colour, fully opaque.
    for (int d = -2; d <= 1; ++d) EXPECT_EQ(at(p, size, size / 2 + d, size / 2), 0xFF2EB84Bu) << size;
    // The four corners: nothing at all.
    for (auto [x, y] : {std::pair{0, 0}, {size - 1, 0}, {0, size - 1}, {size - 1, size - 1}})
      EXPECT_EQ(at(p, size, x, y), 0u) << size << " " << x << "," << y;
    // The middle of the top edge is partly covered: antialiased.
    uint32_t edge_alpha = at(p, size, size / 2, 0) >> 24;
    EXPECT_GT(edge_alpha, 0u) << size;
    EXPECT_LT(edge_alpha, 255u) << size;
    // Symmetric both ways.
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        EXPECT_EQ(at(p, size, x, y), at(p, size, size - 1 - x, y));
        EXPECT_EQ(at(p, size, x, y), at(p, size, x, size - 1 - y));
      }
  }
}

TEST(TrayPixels, MostOfTheSquareIsTheColour) {
  auto p = disc_pixels(16, 0xD93025);
  int opaque = 0;
  for (uint32_t px : p) opaque += px == 0xFFD93025u;
  // π·7.5² ≈ 177 of 256; the rim's ~45 pixels are partial.
  EXPECT_GT(opaque, 130);
  EXPECT_LT(opaque, 200);
}

TEST(TrayPixels, NoImageForNoSize) { EXPECT_TRUE(disc_pixels(0, 0x8A8A8A).empty()); }

TEST(TrayPixels, FitUnitsCutsButNeverHalvesASurrogatePair) {
  EXPECT_EQ(fit_units(L"Drover: Active", 127), L"Drover: Active");
  EXPECT_EQ(fit_units(std::wstring(200, L'a'), 127).size(), 127u);
  // U+1F600 is the pair D83D DE00: cut between them, both go.
  std::wstring s = std::wstring(126, L'a') + L"\xD83D\xDE00" + L"b";
  EXPECT_EQ(fit_units(s, 127), std::wstring(126, L'a'));
  std::wstring t = std::wstring(125, L'a') + L"\xD83D\xDE00" + L"b";
  EXPECT_EQ(fit_units(t, 127), std::wstring(125, L'a') + L"\xD83D\xDE00");
}

TEST(TrayPixels, MenuTextDoublesAmpersands) {
  EXPECT_EQ(menu_text(L"Save diagnostics\x2026"), L"Save diagnostics\x2026");
  EXPECT_EQ(menu_text(L"Tom & Jerry &"), L"Tom && Jerry &&");
}

}  // namespace
}  // namespace drover::platform::win
