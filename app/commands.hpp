#pragma once
#include "app/cli.hpp"

namespace drover::app {

int cmd_check(const options& o);
int cmd_run(const options& o);
int cmd_status(const options& o);
int cmd_stop(const options& o);
int cmd_dump(const options& o);

}  // namespace drover::app
