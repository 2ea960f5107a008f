#include <nlohmann/json.hpp>

#include <cstdio>

#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/status_json.hpp"
#include "platform/upstream_probe.hpp"

namespace drover::app {

int cmd_check(const options& o) {
  auto lc = load_config_file(o.config_path);
  // A file named on the command line is the one the user wants checked: if
  // it is not there, checking the defaults instead would answer another
  // question. An unreadable file is an error wherever it is.
  if (lc.missing && o.config_given) {
    std::fprintf(stderr, "drover: cannot read config %s: not found\n", lc.path.c_str());
    return exit_usage;
  }
  if (lc.read_error) {
    std::fprintf(stderr, "drover: %s\n", lc.read_error->c_str());
    return exit_usage;
  }
  if (lc.error) {
    std::fprintf(stderr, "drover: config error: %s\n", lc.error->c_str());
    return exit_usage;
  }
  for (auto& w : lc.warnings) std::fprintf(stderr, "drover: warning: %s\n", w.c_str());
  if (lc.missing) std::fprintf(stderr, "drover: no config at %s: using defaults\n", lc.path.c_str());
  auto& p = lc.cfg.proxy;
  auto rep = platform::probe_upstream(p);
  // A proxy without working UDP still carries chat: say so, the user may
  // well be content with that (voice is what needs UDP).
  bool tcp_only = rep.tcp_ok && !rep.udp_ok;
  std::string where = proxy_where(p);
  if (o.json) {
    std::printf("%s\n", probe_to_json(rep, p).dump(2).c_str());
  } else {
    std::printf("drover check: proxy %s (%s), UDP round trip to %s\n", where.c_str(),
                p.auth ? "username/password authentication" : "no authentication", p.udp_check.to_string().c_str());
    for (auto& s : rep.steps)
      std::printf("  %-19s %-4s %8.1f ms  %s\n", s.name.c_str(), s.ok ? "OK" : "FAIL", s.millis, s.detail.c_str());
    if (rep.ok) {
      std::printf("all checks passed in %.1f ms\n", rep.total_millis);
    } else {
      std::printf("check failed: %s\n", rep.failure.c_str());
      if (tcp_only)
        std::printf("chat (TCP) will work through this proxy; voice (UDP) will not work\n");
      else if (rep.unreachable)
        std::printf("the proxy cannot be reached: nothing will go through it until it can\n");
    }
  }
  return rep.ok ? exit_ok : exit_failure;
}

}  // namespace drover::app
