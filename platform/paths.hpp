#pragma once
/// Where Drover keeps its config, control socket, logs and state on this OS. This is the only
/// place that knows these paths; every directory it hands out has been checked to be ours.
#include <optional>
#include <string>

#include "core/result.hpp"

namespace drover::platform {

/// The config file read when none is given: /etc/drover/config.toml for root, else
/// $XDG_CONFIG_HOME/drover/config.toml or ~/.config/drover/config.toml. Creates nothing.
std::string default_config_path();

/// Where the runtime directory is, creating nothing: $XDG_RUNTIME_DIR/drover when set, else
/// /run/drover for root, else an error. Never /tmp.
result<std::string> runtime_dir_path();
/// The runtime directory, created (0755) and verified by ensure_private_dir. Server side.
result<std::string> runtime_dir();
/// The socket the server listens on: runtime_dir() + "/control.sock" (creates the directory).
result<std::string> control_socket_listen_path();
/// The socket a client connects to, creating nothing: $XDG_RUNTIME_DIR/drover/control.sock when
/// that socket exists (a development run), else /run/drover/control.sock (the system service).
std::string control_socket_path();

/// Where logs go, creating nothing: $XDG_STATE_HOME/drover, else /var/log/drover for root,
/// else ~/.local/state/drover.
result<std::string> log_dir_path();
/// The log directory, created (0750, group "drover" for root when it exists) and verified.
result<std::string> log_dir();
/// Where lifetime stats and crash dumps go, creating nothing: $XDG_STATE_HOME/drover, else
/// /var/lib/drover for root, else ~/.local/state/drover.
result<std::string> state_dir_path();
/// The state directory, created (0700) and verified.
result<std::string> state_dir();
/// Where crash dumps go, created and verified: the state directory on Linux
/// (/var/lib/drover), the log directory on Windows (%PROGRAMDATA%\Drover\logs,
/// where a user looking for the log finds them too).
result<std::string> crash_dump_dir();

/// Where `drover dump` writes when given no --out: the log directory on Linux (created and
/// verified as log_dir()); the user's Documents folder on Windows, where the user looks for it
/// (the engine's folder is writable only elevated, and `drover dump` needs no elevation).
result<std::string> dump_dir();

/// Creates `dir` (its last component only) with exactly `mode` and group `group` when asked,
/// then verifies it: not a symlink, a directory, owned by the effective uid, not writable by
/// group or others; its parent owned by root or the effective uid and not writable by group or
/// others unless sticky. An existing directory that passes is kept as it is. The error names the
/// path, the reason and what to do.
status ensure_private_dir(const std::string& dir, unsigned mode, std::optional<unsigned> group = std::nullopt);

/// The gid of the "drover" group (members may read logs and dumps), if it exists.
std::optional<unsigned> drover_group_id();
/// The gid of group `name`, if it exists.
std::optional<unsigned> group_id(const char* name);

}  // namespace drover::platform
