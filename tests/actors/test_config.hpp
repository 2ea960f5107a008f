#pragma once
/// The actor system of every actor test: Drover's message types, CAF's
/// test coordinator (virtual time, run by hand), no CAF logging.
#include <caf/all.hpp>

#include "messages/messages.hpp"

namespace drover::testing {

struct test_config : caf::actor_system_config {
  test_config() {
    add_message_types<caf::id_block::drover>();
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

}  // namespace drover::testing
