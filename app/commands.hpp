#pragma once
#include <string>

#include "app/cli.hpp"

namespace drover::app {

int cmd_check(const options& o);
int cmd_run(const options& o);
int cmd_status(const options& o);
int cmd_stop(const options& o);
int cmd_dump(const options& o);
int cmd_cleanup(const options& o);
int cmd_autostart(const options& o);
int cmd_tray(const options& o);

/// When no engine answers: a sentence if this namespace still has Drover's
/// rules (a crashed engine's), else empty. Needs root to tell.
std::string stale_rules_note();

}  // namespace drover::app
