// The login start of the tray: an XDG autostart entry,
// $XDG_CONFIG_HOME/autostart/drover-tray.desktop (else ~/.config/...), that
// runs "<this drover> tray". The engine itself is a system service and
// starts at boot. Desktops record a user's "don't start this" in the same
// file (GNOME: X-GNOME-Autostart-enabled=false, Xfce and others:
// Hidden=true): that is the user's choice, reported and kept, never undone.
// No NoDisplay=true: the desktop's startup settings list the entry, and that
// is where the user turns it off.
#include "platform/autostart.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "platform/process_table.hpp"
#include "platform/safe_file.hpp"

namespace drover::platform {
namespace {

constexpr const char* file_name = "drover-tray.desktop";

struct entry_paths {
  std::string dir;   ///< .../autostart
  std::string file;  ///< .../autostart/drover-tray.desktop
  std::string config;
};

result<entry_paths> paths() {
  // The XDG base directory spec: a relative XDG_CONFIG_HOME is ignored.
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::string config;
  if (xdg != nullptr && xdg[0] == '/') {
    config = xdg;
  } else {
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] != '/')
      return make_error("failed", "cannot find the autostart folder: neither XDG_CONFIG_HOME nor HOME is set");
    config = std::string(home) + "/.config";
  }
  return entry_paths{config + "/autostart", config + "/autostart/" + file_name, config};
}

// What an entry's [Desktop Entry] group says, as far as we care.
struct desktop_entry {
  bool exists = false;
  std::string exec;
  bool hidden = false;
  bool gnome_disabled = false;
};

bool is_true(const std::string& v) { return v == "true" || v == "1"; }

result<desktop_entry> read_entry(const std::string& path) {
  desktop_entry e;
  if (entry_kind_of(path) == entry_kind::missing) return e;
  std::ifstream in(path);
  // A dangling link starts nothing either (and enable refuses to write through it).
  if (!in && errno == ENOENT) return e;
  if (!in) return make_error("failed", "cannot read " + path + ": " + std::strerror(errno));
  e.exists = true;
  std::string line;
  bool in_group = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      in_group = line == "[Desktop Entry]";
      continue;
    }
    auto eq = line.find('=');
    if (!in_group || eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (key == "Exec") e.exec = value;
    if (key == "Hidden") e.hidden = is_true(value);
    if (key == "X-GNOME-Autostart-enabled") e.gnome_disabled = !is_true(value);
  }
  return e;
}

// The desktop entry spec quotes an Exec argument in double quotes when it
// holds a reserved character, escapes " ` $ \ inside with a backslash, and
// doubles % (field codes); the string value then doubles every backslash.
bool needs_quotes(const std::string& arg) { return arg.find_first_of(" \t\n\"'\\><~|&;$*?#()`") != std::string::npos; }

std::string exec_argument(const std::string& arg) {
  std::string out;
  for (char c : arg) {
    if (c == '%') {
      out += "%%";
      continue;
    }
    // One backslash before it in the argument, each doubled in the value.
    if (c == '\\') {
      out += "\\\\\\\\";
      continue;
    }
    if (c == '"' || c == '`' || c == '$') out += "\\\\";
    out += c;
  }
  return needs_quotes(arg) ? "\"" + out + "\"" : out;
}

// The program an Exec value runs: its first argument, unquoted.
std::string program_of(const std::string& exec) {
  // The string value's own escapes first (\\ is one backslash, \s a space).
  std::string v;
  for (std::size_t i = 0; i < exec.size(); ++i) {
    if (exec[i] == '\\' && i + 1 < exec.size()) {
      char n = exec[++i];
      v += n == 's' ? ' ' : n == 't' ? '\t' : n == 'n' ? '\n' : n;
      continue;
    }
    v += exec[i];
  }
  std::string arg;
  std::size_t i = 0;
  if (!v.empty() && v[0] == '"') {
    for (i = 1; i < v.size() && v[i] != '"'; ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) ++i;
      arg += v[i];
    }
  } else {
    arg = v.substr(0, v.find_first_of(" \t"));
  }
  std::string out;  // %% is one %
  for (std::size_t k = 0; k < arg.size(); ++k) {
    out += arg[k];
    if (arg[k] == '%' && k + 1 < arg.size() && arg[k + 1] == '%') ++k;
  }
  return out;
}

// Both sides' real names: a symlink or a "/./" still names this program.
std::string canonical(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

status make_dir(const std::string& dir) {
  // 0700, as the XDG base directory spec asks of directories it creates.
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return ok();
  return make_error("failed", "cannot create " + dir + ": " + std::strerror(errno));
}

}  // namespace

result<autostart_state> autostart_status() {
  auto p = paths();
  if (!p) return p.err();
  auto e = read_entry(p->file);
  if (!e) return e.err();
  autostart_state s;
  s.enabled = e->exists;
  s.disabled_by_user = e->hidden || e->gnome_disabled;
  s.disabled_where =
      "turned off in the desktop's startup settings (Hidden or X-GNOME-Autostart-enabled=false in "
      "drover-tray.desktop): the tray will not start at login";
  s.command = e->exec;
  if (s.enabled) s.stale = canonical(program_of(e->exec)) != canonical(own_executable_path());
  return s;
}

status autostart_enable() {
  std::string exe = own_executable_path();
  if (exe.empty()) return make_error("failed", "cannot enable autostart: the path of this program is unknown");
  if (exe.find('\n') != std::string::npos)
    return make_error("failed", "cannot enable autostart: the path of this program has a line break in it");
  auto p = paths();
  if (!p) return p.err();
  auto old = read_entry(p->file);
  if (!old) return old.err();
  std::ostringstream out;
  out << "[Desktop Entry]\n"
      << "Type=Application\n"
      << "Name=Drover\n"
      << "Comment=Drover's tray icon: the state of the proxy engine, and its switches\n"
      << "Exec=" << exec_argument(exe) << " tray\n"
      << "Terminal=false\n";
  // The user's "off" from their desktop's startup settings stays off.
  if (old->hidden) out << "Hidden=true\n";
  if (old->gnome_disabled) out << "X-GNOME-Autostart-enabled=false\n";
  if (auto st = make_dir(p->config); !st) return st;
  if (auto st = make_dir(p->dir); !st) return st;
  return write_file_atomic(p->file, out.str());
}

status autostart_disable() {
  auto p = paths();
  if (!p) return p.err();
  if (entry_kind_of(p->file) == entry_kind::missing) return ok();
  return remove_no_follow(p->file);
}

status autostart_refresh() {
  // `drover run` calls this too, as root in a service whose home is
  // read-only: with no entry there is nothing to do, and nothing is made.
  auto p = paths();
  if (!p || entry_kind_of(p->file) == entry_kind::missing) return ok();
  auto s = autostart_status();
  if (!s) return s.err();
  if (!s->stale) return ok();
  // Another copy that still exists keeps its entry (an installed and a
  // development copy side by side); one naming a program that is gone
  // (moved, reinstalled elsewhere) comes to us.
  if (exists(program_of(s->command))) return ok();
  return autostart_enable();
}

}  // namespace drover::platform
