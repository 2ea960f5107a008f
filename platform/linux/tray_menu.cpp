#include "platform/linux/tray_menu.hpp"

#include <gtk/gtk.h>

namespace drover::platform::tray_detail {
namespace {

void on_activate(GtkMenuItem* item, gpointer self) { static_cast<tray_menu*>(self)->activated(GTK_WIDGET(item)); }

}  // namespace

tray_menu::tray_menu(std::function<void(tray::item_id)> clicked) : clicked_(std::move(clicked)) {
  menu_ = gtk_menu_new();
  g_object_ref_sink(menu_);
}

tray_menu::~tray_menu() {
  gtk_widget_destroy(menu_);
  g_object_unref(menu_);
}

void tray_menu::update(const std::vector<tray::item>& items) {
  if (!same_shape(items)) {
    rebuild(items);
    return;
  }
  for (std::size_t i = 0; i < items.size(); ++i) apply(rows_[i], items[i], false);
}

void tray_menu::activated(GtkWidget* item) {
  if (updating_) return;
  // GTK has toggled a check item already; the model decides what it shows
  // (the next view), so it goes back until then: an action that fails, or
  // a view equal to the last, must not leave a tick the model never set.
  for (auto& r : rows_) {
    if (r.item != item) continue;
    if (r.spec.checkable) {
      updating_ = true;
      gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), r.spec.checked);
      updating_ = false;
    }
    // gtk_menu_item_activate() does not look at sensitivity, and a D-Bus
    // client may send "clicked" for any row: a disabled one does nothing.
    if (r.spec.enabled && clicked_) clicked_(r.spec.id);
    return;
  }
}

// The same rows in the same order, each the same kind of widget.
bool tray_menu::same_shape(const std::vector<tray::item>& items) const {
  if (items.size() != rows_.size()) return false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& a = rows_[i].spec;
    const auto& b = items[i];
    if (a.id != b.id || a.checkable != b.checkable || a.separator_before != b.separator_before) return false;
  }
  return true;
}

void tray_menu::rebuild(const std::vector<tray::item>& items) {
  for (auto& r : rows_) {
    if (r.separator != nullptr) gtk_widget_destroy(r.separator);
    gtk_widget_destroy(r.item);
  }
  rows_.clear();
  for (const auto& spec : items) {
    row r;
    if (spec.separator_before) {
      r.separator = gtk_separator_menu_item_new();
      gtk_menu_shell_append(GTK_MENU_SHELL(menu_), r.separator);
      gtk_widget_show(r.separator);
    }
    // Plain labels: an underscore in a label is text, not a mnemonic.
    r.item = spec.checkable ? gtk_check_menu_item_new_with_label(spec.label.c_str())
                            : gtk_menu_item_new_with_label(spec.label.c_str());
    g_signal_connect(r.item, "activate", G_CALLBACK(on_activate), this);
    apply(r, spec, true);
    gtk_menu_shell_append(GTK_MENU_SHELL(menu_), r.item);
    gtk_widget_show(r.item);
    rows_.push_back(std::move(r));
  }
}

// Touches only what changed: every set emits a D-Bus property update.
void tray_menu::apply(row& r, const tray::item& spec, bool force) {
  if (force || r.spec.label != spec.label) gtk_menu_item_set_label(GTK_MENU_ITEM(r.item), spec.label.c_str());
  if (force || r.spec.enabled != spec.enabled) gtk_widget_set_sensitive(r.item, spec.enabled);
  if (spec.checkable) {
    auto* check = GTK_CHECK_MENU_ITEM(r.item);
    if (gtk_check_menu_item_get_active(check) != static_cast<gboolean>(spec.checked)) {
      updating_ = true;
      gtk_check_menu_item_set_active(check, spec.checked);
      updating_ = false;
    }
  }
  r.spec = spec;
}

}  // namespace drover::platform::tray_detail
