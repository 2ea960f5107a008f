#include <gtest/gtest.h>

#include "core/flow_verdict.hpp"

TEST(flow_verdict, placeholder) {}
