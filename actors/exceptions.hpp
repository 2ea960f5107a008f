#pragma once
/// Makes an actor that throws exit with the exception's text, so the
/// supervisor's down_msg (and the crash dump) can say what happened. CAF's
/// default handler keeps only "runtime_error".
#include <caf/all.hpp>

#include <exception>
#include <string>

namespace drover {

template <class Self>
void report_exceptions(Self* self) {
  self->set_exception_handler([](std::exception_ptr& ep) -> caf::error {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, std::string(e.what()));
    } catch (...) {
      return caf::make_error(caf::sec::runtime_error, std::string("unknown exception"));
    }
  });
}

/// An error's own sentence for status and logs: the text an actor failed
/// with, not CAF's "system_error(runtime_error, (...))" rendering.
inline std::string error_text(caf::actor_system& sys, const caf::error& e) {
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return sys.render(e);
}

}  // namespace drover
