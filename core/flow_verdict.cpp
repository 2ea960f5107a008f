#include "core/flow_verdict.hpp"
