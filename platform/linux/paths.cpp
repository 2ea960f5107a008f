#include "platform/paths.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace drover::platform {
namespace {

// The XDG spec says a relative value is invalid and must be ignored.
std::string xdg_env(const char* name) {
  const char* v = std::getenv(name);
  return v && v[0] == '/' ? v : "";
}

bool is_root() { return ::geteuid() == 0; }

std::string home_dir() {
  if (auto h = xdg_env("HOME"); !h.empty()) return h;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_dir &&
      found->pw_dir[0] == '/')
    return found->pw_dir;
  return "";
}

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string parent_of(const std::string& dir) {
  auto end = dir.find_last_not_of('/');
  if (end == std::string::npos) return "";
  auto slash = dir.find_last_of('/', end);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return dir.substr(0, dir.find_last_not_of('/', slash) + 1);
}

error refuse(const std::string& dir, const std::string& why) {
  return make_error("unsafe_path", "refusing " + dir + ": " + why);
}

std::string owner_wanted() { return is_root() ? "root" : "uid " + std::to_string(::geteuid()); }

// A hostile parent could swap our directory for a symlink after we checked it, so the parent
// must belong to root or us, and be shared only when sticky (like /tmp).
status check_parent(const std::string& dir, const std::string& parent) {
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      return make_error("not_found",
                        "cannot create " + dir + ": its parent " + parent + " does not exist (create it first)");
    return make_error("io_error", "cannot check " + parent + ": " + std::strerror(e));
  }
  if (!S_ISDIR(st.st_mode)) return refuse(dir, "its parent " + parent + " is not a directory");
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return refuse(dir, "its parent " + parent + " is owned by uid " + std::to_string(st.st_uid) + ", not root or " +
                           owner_wanted() + " (use a directory of your own)");
  // Ubuntu's /var/log is root:syslog 0775: a root-owned parent shared with
  // the log daemons' groups is trusted like root; any other group (users,
  // staff: groups of people, whatever their gid) or everyone is not.
  auto is_gid = [&st](const char* name) {
    auto g = group_id(name);
    return g && *g == st.st_gid;
  };
  bool system_group = st.st_uid == 0 && (st.st_gid == 0 || is_gid("syslog") || is_gid("adm"));
  bool shared = (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && !system_group);
  if (shared && !(st.st_mode & S_ISVTX))
    return refuse(dir, "its parent " + parent + " is writable by group or others without the sticky bit (mode " +
                           octal(st.st_mode) + "; chmod go-w or +t it)");
  return ok();
}

// Each check says what to do, because the one who reads it is an admin with a broken install.
status check_dir(const std::string& dir, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return refuse(dir, "it is a symlink (remove it)");
  if (!S_ISDIR(st.st_mode)) return refuse(dir, "it is not a directory (remove it)");
  if (st.st_uid != ::geteuid())
    return refuse(dir, "owned by uid " + std::to_string(st.st_uid) + ", not " + owner_wanted() +
                           " (remove it, or fix its owner)");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return refuse(dir, "writable by group or others (mode " + octal(st.st_mode) + "; chmod go-w it, or remove it)");
  return ok();
}

status io_fail(const std::string& what, const std::string& dir, int e) {
  return make_error("io_error", "cannot " + what + " " + dir + ": " + std::strerror(e));
}

// The XDG default ~/.local/state may not exist yet for a fresh user; the spec says to create it
// 0700. Only these home parents are created, never a parent named by an environment variable.
void make_home_parents(const std::string& dir) {
  auto parent = parent_of(dir);
  auto grand = parent_of(parent);
  ::mkdir(grand.c_str(), 0700);
  ::mkdir(parent.c_str(), 0700);
}

result<std::string> ensured(result<std::string> path, unsigned mode, std::optional<unsigned> group) {
  if (!path) return path;
  if (auto st = ensure_private_dir(*path, mode, group); !st) return st.err();
  return path;
}

bool from_home(const char* xdg_name) { return xdg_env(xdg_name).empty() && !is_root(); }

result<std::string> state_home_dir(const char* root_dir) {
  if (auto x = xdg_env("XDG_STATE_HOME"); !x.empty()) return x + "/drover";
  if (is_root()) return std::string(root_dir);
  auto h = home_dir();
  if (h.empty()) return make_error("not_found", "neither XDG_STATE_HOME nor HOME is set");
  return h + "/.local/state/drover";
}

}  // namespace

std::string default_config_path() {
  if (is_root()) return "/etc/drover/config.toml";
  if (auto x = xdg_env("XDG_CONFIG_HOME"); !x.empty()) return x + "/drover/config.toml";
  auto h = home_dir();
  if (h.empty()) return "/etc/drover/config.toml";
  return h + "/.config/drover/config.toml";
}

result<std::string> runtime_dir_path() {
  if (auto x = xdg_env("XDG_RUNTIME_DIR"); !x.empty()) return x + "/drover";
  if (is_root()) return std::string("/run/drover");
  return make_error("not_found",
                    "XDG_RUNTIME_DIR is not set (run drover from a login session, or as the system service)");
}

// 0755: a desktop user's `drover status` and tray must reach the root service's socket.
result<std::string> runtime_dir() { return ensured(runtime_dir_path(), 0755, std::nullopt); }

result<std::string> control_socket_listen_path() {
  auto dir = runtime_dir();
  if (!dir) return dir;
  return *dir + "/control.sock";
}

std::string control_socket_path() {
  if (auto x = xdg_env("XDG_RUNTIME_DIR"); !x.empty()) {
    auto mine = x + "/drover/control.sock";
    struct stat st {};
    if (::lstat(mine.c_str(), &st) == 0) return mine;
  }
  return "/run/drover/control.sock";
}

result<std::string> log_dir_path() { return state_home_dir("/var/log/drover"); }

result<std::string> log_dir() {
  auto path = log_dir_path();
  if (path && from_home("XDG_STATE_HOME")) make_home_parents(*path);
  // Only root can give a file to a group it is not in; a user's logs stay the user's.
  return ensured(path, 0750, is_root() ? drover_group_id() : std::nullopt);
}

result<std::string> state_dir_path() { return state_home_dir("/var/lib/drover"); }

result<std::string> state_dir() {
  auto path = state_dir_path();
  if (path && from_home("XDG_STATE_HOME")) make_home_parents(*path);
  return ensured(path, 0700, std::nullopt);
}

status ensure_private_dir(const std::string& dir, unsigned mode, std::optional<unsigned> group) {
  auto parent = parent_of(dir);
  if (parent.empty() || parent == dir) return refuse(dir, "not a directory Drover can own");
  if (auto st = check_parent(dir, parent); !st) return st;

  // Created 0700 first so no one can open it before its final mode and group are set.
  bool created = ::mkdir(dir.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) return io_fail("create", dir, errno);

  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return io_fail("check", dir, errno);
  if (auto s = check_dir(dir, st); !s) return s;
  if (!created) return ok();

  if (group && ::chown(dir.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(*group)) != 0)
    return io_fail("set the group of", dir, errno);
  // The umask must not decide: runtime 0755 is what lets non-root clients reach the socket.
  if (::chmod(dir.c_str(), mode & 07777) != 0) return io_fail("set the mode of", dir, errno);
  if (::lstat(dir.c_str(), &st) != 0) return io_fail("check", dir, errno);
  return check_dir(dir, st);
}

std::optional<unsigned> drover_group_id() { return group_id("drover"); }

std::optional<unsigned> group_id(const char* name) {
  std::vector<char> buf(16384);
  for (int tries = 0; tries < 4; ++tries) {
    group gr{};
    group* found = nullptr;
    int rc = ::getgrnam_r(name, &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (rc != 0 || !found) return std::nullopt;
    return static_cast<unsigned>(found->gr_gid);
  }
  return std::nullopt;
}

result<std::string> crash_dump_dir() { return state_dir(); }
result<std::string> dump_dir() { return log_dir(); }

}  // namespace drover::platform
