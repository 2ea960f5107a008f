#include "platform/linux/tray_icons.hpp"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace drover::platform::tray_detail {
namespace {

constexpr tray::colour all_colours[] = {tray::colour::grey, tray::colour::green, tray::colour::yellow,
                                        tray::colour::red};

// The share of pixel (x, y) inside the disc, from 4 × 4 samples: a soft edge
// instead of a jagged one once the panel scales the icon down.
double coverage(int x, int y, double centre, double radius) {
  int inside = 0;
  for (int sy = 0; sy < 4; ++sy)
    for (int sx = 0; sx < 4; ++sx) {
      double dx = x + (sx + 0.5) / 4 - centre;
      double dy = y + (sy + 0.5) / 4 - centre;
      if (dx * dx + dy * dy <= radius * radius) ++inside;
    }
  return inside / 16.0;
}

status draw_disc(const std::string& path, uint32_t rgb, int size) {
  GdkPixbuf* pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, size, size);
  if (pb == nullptr) return make_error("failed", "cannot draw the tray icon: out of memory");
  guchar* pixels = gdk_pixbuf_get_pixels(pb);
  int stride = gdk_pixbuf_get_rowstride(pb);
  // A small margin: hosts draw the icon edge to edge, and a disc touching
  // its box looks cut off.
  double centre = size / 2.0, radius = size / 2.0 - size / 16.0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      guchar* p = pixels + y * stride + x * 4;
      p[0] = static_cast<guchar>(rgb >> 16);
      p[1] = static_cast<guchar>(rgb >> 8);
      p[2] = static_cast<guchar>(rgb);
      p[3] = static_cast<guchar>(255 * coverage(x, y, centre, radius) + 0.5);
    }
  GError* err = nullptr;
  gboolean saved = gdk_pixbuf_save(pb, path.c_str(), "png", &err, nullptr);
  g_object_unref(pb);
  if (!saved) {
    std::string why = err != nullptr ? err->message : "unknown error";
    g_clear_error(&err);
    return make_error("failed", "cannot write the tray icon " + path + ": " + why);
  }
  return ok();
}

}  // namespace

std::string icon_name(tray::colour c) { return std::string("drover-tray-") + tray::colour_name(c); }

result<icon_dir> icon_dir::create(int size) {
  // The runtime directory is the user's own (0700, on tmpfs, gone at
  // logout); mkdtemp makes a fresh name there, or in the shared temp dir
  // when a session has none, so nobody can plant files for us to show.
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string base = runtime != nullptr && runtime[0] == '/' ? runtime : g_get_tmp_dir();
  std::string tmpl = base + "/drover-tray-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    return make_error("failed",
                      "cannot create a directory for the tray icons in " + base + ": " + std::strerror(errno));
  icon_dir dir(tmpl);
  for (auto c : all_colours)
    if (auto st = draw_disc(dir.file(c), tray::colour_rgb(c), size); !st) return st.err();
  return result<icon_dir>(std::move(dir));
}

icon_dir::~icon_dir() {
  if (path_.empty()) return;
  for (auto c : all_colours) ::unlink(file(c).c_str());
  ::rmdir(path_.c_str());
}

}  // namespace drover::platform::tray_detail
