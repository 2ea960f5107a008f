#pragma once
/// Starting Drover when the user logs in (Windows: the HKCU Run key; the
/// tray's "Start with Windows" checkbox).
#include <string>

#include "core/result.hpp"

namespace drover::platform {

struct autostart_state {
  bool enabled = false;           ///< our entry exists
  bool disabled_by_user = false;  ///< Windows: turned off in Task Manager (StartupApproved\Run)
  /// Where the user turned it off and what that means, for messages.
  std::string disabled_where;
  bool stale = false;   ///< the entry runs another path than this executable
  std::string command;  ///< what the entry runs
};

/// What the login start looks like now. Error code "unsupported" where the OS
/// has none of ours (Linux: the service starts at boot).
result<autostart_state> autostart_status();
/// Makes this executable start at login ("<exe>" run). Does not override the
/// user's choice in Task Manager: that stays reported as disabled_by_user.
status autostart_enable();
/// Removes our entry (and nothing else).
status autostart_disable();
/// While autostart is on, points an entry naming another path (the program
/// moved, a new install) at this executable; called on every launch.
status autostart_refresh();

}  // namespace drover::platform
