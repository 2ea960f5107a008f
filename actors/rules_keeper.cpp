#include "actors/rules_keeper.hpp"
