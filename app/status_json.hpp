#pragma once
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "messages/messages.hpp"
#include "platform/upstream_probe.hpp"

namespace drover::app {

nlohmann::json to_json(const status_snapshot& s);
/// One human line per field, as `drover status` prints it.
std::string to_text(const nlohmann::json& status);
/// The health check's report as `drover check --json` prints it and the
/// control request `check` answers.
nlohmann::json probe_to_json(const platform::probe_report& rep, const config::proxy_section& p);
/// "host:port", with brackets around an IPv6 literal.
std::string proxy_where(const config::proxy_section& p);

}  // namespace drover::app
