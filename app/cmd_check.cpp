#include <nlohmann/json.hpp>

#include <cstdio>

#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "platform/upstream_probe.hpp"

namespace drover::app {

int cmd_check(const options& o) {
  auto lc = load_config_file(o.config_path);
  if (lc.missing && o.config_given) {
    std::fprintf(stderr, "drover: config file not found: %s\n", lc.path.c_str());
    return exit_usage;
  }
  if (lc.error) {
    std::fprintf(stderr, "drover: config error: %s\n", lc.error->c_str());
    return exit_usage;
  }
  for (auto& w : lc.warnings) std::fprintf(stderr, "drover: warning: %s\n", w.c_str());
  if (lc.missing) std::fprintf(stderr, "drover: no config at %s; checking the default proxy\n", lc.path.c_str());
  auto& p = lc.cfg.proxy;
  auto rep = platform::probe_upstream(p);
  if (o.json) {
    nlohmann::json j;
    j["ok"] = rep.ok;
    j["proxy"] = p.host + ":" + std::to_string(p.port);
    j["auth"] = p.auth;
    j["total_ms"] = rep.total_millis;
    j["steps"] = nlohmann::json::array();
    for (auto& s : rep.steps)
      j["steps"].push_back({{"name", s.name}, {"ok", s.ok}, {"ms", s.millis}, {"detail", s.detail}});
    if (!rep.ok) j["failure"] = rep.failure;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("drover check: proxy %s:%u (%s)\n", p.host.c_str(), p.port,
                p.auth ? ("user " + p.login).c_str() : "no authentication");
    for (auto& s : rep.steps)
      std::printf("  %-14s %-4s %8.1f ms  %s\n", s.name.c_str(), s.ok ? "OK" : "FAIL", s.millis, s.detail.c_str());
    if (rep.ok)
      std::printf("all checks passed in %.1f ms\n", rep.total_millis);
    else
      std::printf("check failed: %s\n", rep.failure.c_str());
  }
  return rep.ok ? exit_ok : exit_failure;
}

}  // namespace drover::app
