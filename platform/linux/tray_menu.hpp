#pragma once
/// The tray's GtkMenu, kept equal to a tray::view's items. ayatana mirrors
/// it over D-Bus (com.canonical.dbusmenu) for the panel to draw; an item the
/// panel activates comes back as the GtkMenuItem's "activate". GTK thread only.
#include <functional>
#include <vector>

#include "core/tray_model.hpp"

// GTK's own spelling of its type, so this header needs no GTK header.
typedef struct _GtkWidget GtkWidget;

namespace drover::platform::tray_detail {

class tray_menu {
 public:
  explicit tray_menu(std::function<void(tray::item_id)> clicked);
  ~tray_menu();
  tray_menu(const tray_menu&) = delete;
  tray_menu& operator=(const tray_menu&) = delete;

  /// The GtkMenu (ours: destroyed with this).
  GtkWidget* widget() const { return menu_; }
  /// Shows `items`. When only labels, enabled or checked states differ, the
  /// rows keep their widgets (an open menu updates in place, as the status
  /// row does every second); otherwise the rows are built anew.
  void update(const std::vector<tray::item>& items);
  /// A row's "activate" (the panel's click, or GTK's own).
  void activated(GtkWidget* item);

 private:
  struct row {
    tray::item spec;
    GtkWidget* item = nullptr;
    GtkWidget* separator = nullptr;  ///< the line above it, if any
  };
  bool same_shape(const std::vector<tray::item>& items) const;
  void rebuild(const std::vector<tray::item>& items);
  void apply(row& r, const tray::item& spec, bool force);

  std::function<void(tray::item_id)> clicked_;
  GtkWidget* menu_ = nullptr;
  std::vector<row> rows_;
  bool updating_ = false;  ///< our own set_active() emits "activate" too: not a click
};

}  // namespace drover::platform::tray_detail
