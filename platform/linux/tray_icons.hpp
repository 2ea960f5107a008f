#pragma once
/// The tray's icons: one filled disc per colour, drawn at run time into a
/// private directory that the panel reads them from (an icon theme path:
/// StatusNotifierItem hosts load icons by name, and ayatana sends no pixels).
#include <string>

#include "core/result.hpp"
#include "core/tray_model.hpp"

namespace drover::platform::tray_detail {

/// The icon's name in our directory: "drover-tray-green" (distinct from any
/// theme's names, which would win over ours).
std::string icon_name(tray::colour c);

/// A directory of our own (mkdtemp: 0700, a fresh name) under
/// $XDG_RUNTIME_DIR, else under the system temp dir, holding the four
/// icons; removed with them when this goes.
class icon_dir {
 public:
  /// Creates the directory and draws the icons `size` pixels square.
  static result<icon_dir> create(int size);
  icon_dir(icon_dir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  icon_dir& operator=(icon_dir&&) = delete;
  icon_dir(const icon_dir&) = delete;
  icon_dir& operator=(const icon_dir&) = delete;
  ~icon_dir();

  const std::string& path() const { return path_; }
  /// The absolute path of colour `c`'s PNG.
  std::string file(tray::colour c) const { return path_ + "/" + icon_name(c) + ".png"; }

 private:
  explicit icon_dir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace drover::platform::tray_detail
