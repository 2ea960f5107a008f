#pragma once
/// Privileges and the machine: whether Drover may capture packets here, and
/// how it gets the right to (Windows: its own UAC prompt).
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace drover::platform {

/// True when we may capture packets (root / an elevated Administrator).
bool is_elevated();

/// Starts this executable again, elevated, with `args` (Windows:
/// ShellExecuteExW "runas", which shows the UAC prompt). The manifest says
/// asInvoker because Windows silently skips Run-key programs that require
/// elevation: autostart would never start. Error codes: "cancelled" (the user
/// declined the prompt: exit quietly), "unsupported" (Linux: use sudo),
/// "failed" (the message says why).
status relaunch_elevated(const std::vector<std::string>& args);

/// Refuses a machine Drover cannot work on, with the reason (Windows on ARM64:
/// WinDivert has no ARM64 driver, and an x64 engine under emulation would
/// capture nothing). Linux: always ok.
status check_machine();

/// The OS this build runs on (its config defaults: target names, paths).
config::target_os this_os();

/// Windows: a GUI-subsystem program starts without a console (none flashes up
/// at login); the CLI verbs attach to the parent's console (cmd, PowerShell)
/// so their output and exit codes reach it. Linux: nothing to do.
void attach_parent_console();

/// A start-up failure the user must see: "drover: <sentence>" on stderr,
/// and where nobody reads stderr (Windows: started from Explorer, a shortcut
/// or at login, with no console) a message box as well.
void tell_start_failure(const std::string& sentence);

}  // namespace drover::platform
