#include "core/recovery.hpp"

namespace drover::recovery {

action classify(failure_class c) {
  switch (c) {
    case failure_class::driver_lost:
      return action::retry_once;
    case failure_class::proxy_unreachable:
      return action::exp_backoff;
    case failure_class::sleep:
      return action::pause;
    case failure_class::resume:
      return action::resume;
    case failure_class::driver_gone:
    case failure_class::exception:
    case failure_class::fatal:
      return action::fail_stop;
  }
  return action::fail_stop;
}

const char* to_string(failure_class c) {
  switch (c) {
    case failure_class::driver_lost:
      return "driver lost";
    case failure_class::driver_gone:
      return "driver gone";
    case failure_class::proxy_unreachable:
      return "proxy unreachable";
    case failure_class::exception:
      return "exception";
    case failure_class::sleep:
      return "sleep";
    case failure_class::resume:
      return "resume";
    case failure_class::fatal:
      return "fatal";
  }
  return "?";
}

const char* to_string(action a) {
  switch (a) {
    case action::retry_once:
      return "retry once";
    case action::exp_backoff:
      return "exponential backoff";
    case action::fail_stop:
      return "fail stop";
    case action::pause:
      return "pause";
    case action::resume:
      return "resume";
  }
  return "?";
}

seconds backoff::delay(unsigned attempt) const {
  if (attempt == 0) attempt = 1;
  auto d = initial;
  for (unsigned i = 1; i < attempt && d < cap; ++i) d *= 2;
  return d < cap ? d : cap;
}

}  // namespace drover::recovery
