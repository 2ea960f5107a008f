// Drover's own chains, installed atomically with iptables-restore --noflush
// and removed on destruction; a crashed run's leftovers are removed first.
#include <string>
#include <vector>

#include "platform/linux/linux_redirect.hpp"
#include "platform/linux/run_command.hpp"
#include "platform/redirect.hpp"

namespace drover::platform {
namespace {

void run_all(const std::vector<std::vector<std::string>>& cmds) {
  for (auto& c : cmds) {
    // A jump may have been inserted more than once by an older crashed run.
    bool is_delete = c.size() > 4 && c[4] == "-D";
    for (int i = 0; i < 8; ++i)
      if (run_command(c).exit_code != 0 || !is_delete) break;
  }
}

// Each family's save and restore tools.
struct family_tool {
  filter::family f;
  const char* save;
  const char* restore;
};
constexpr family_tool family_tools[] = {{filter::family::v4, "iptables-save", "iptables-restore"},
                                        {filter::family::v6, "ip6tables-save", "ip6tables-restore"}};

// The rules for both families, each swapped in one iptables-restore
// transaction per table, and the TPROXY policy route (added before any
// duplicate is removed, so marked UDP is never routed out meanwhile).
status apply_rules(const filter::inputs& in, const filter::linux_params& p) {
  for (const auto& f : family_tools) {
    auto saved = run_command({f.save});
    std::string script = filter::linux_replace_script(saved.exit_code == 0 ? saved.output : "", in, p, f.f);
    auto r = run_command({f.restore, "-w", "--noflush"}, script);
    if (r.exit_code != 0)
      return make_error("rules",
                        std::string(f.restore) + " failed: " + r.output + " (is iptables installed, and are we root?)");
  }
  auto add = filter::linux_route_add(p, filter::family::v4);
  auto del = filter::linux_route_del(p, filter::family::v4);
  for (auto& c : add) {
    auto r = run_command(c);
    if (r.exit_code != 0) return make_error("rules", "policy route failed: " + r.output);
  }
  // `ip rule add` stacks copies; keep exactly one (a crashed run left one).
  auto count = [] {
    auto r = run_command({"ip", "-4", "rule", "show", "fwmark", std::to_string(filter::mark::redirect_udp)});
    size_t n = 0;
    for (char ch : r.output) n += ch == '\n';
    return n;
  };
  for (size_t n = count(); n > 1; --n)
    if (run_command(del.front()).exit_code != 0) break;
  return ok();
}

void remove_stale_rules(const filter::linux_params& p);

class linux_rules final : public redirector {
 public:
  explicit linux_rules(filter::linux_params p) : p_(p) {}
  ~linux_rules() override { remove_stale_rules(p_); }
  status update(const redirect_plan& plan) override {
    p_ = linux_params_for(plan);
    return apply_rules(plan.inputs, p_);
  }
  bool intact() const override {
    for (const char* tool : {"iptables", "ip6tables"})
      if (run_command({tool, "-w", "-t", "mangle", "-C", "OUTPUT", "-j", "DROVER_OUT"}).exit_code != 0) return false;
    return true;
  }

 private:
  filter::linux_params p_;
};

void remove_stale_rules(const filter::linux_params& p) {
  // One save and at most one restore per family: fast enough for a stop
  // within 500 ms. The command-by-command path is the fallback.
  for (const auto& f : family_tools) {
    auto saved = run_command({f.save});
    if (saved.exit_code != 0) {
      run_all(filter::linux_cleanup(f.f));
      continue;
    }
    auto script = filter::linux_cleanup_script(saved.output);
    if (!script.empty() && run_command({f.restore, "-w", "--noflush"}, script).exit_code != 0)
      run_all(filter::linux_cleanup(f.f));
  }
  for (auto& c : filter::linux_route_del(p, filter::family::v4)) {
    for (int i = 0; i < 8; ++i)
      if (run_command(c).exit_code != 0) break;
  }
}

}  // namespace

filter::linux_params linux_params_for(const redirect_plan& plan) {
  filter::linux_params p;
  p.queue_num = capture_queue_num;
  p.tcp_port = plan.tcp_port;
  p.udp_port = plan.udp_port;
  return p;
}

void remove_stale_redirect() { remove_stale_rules(filter::linux_params{}); }

bool leftover_redirect_present() {
  for (const auto& f : family_tools) {
    auto saved = run_command({f.save});
    if (saved.exit_code == 0 && !filter::linux_cleanup_script(saved.output).empty()) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> capture_details() {
  return {{"capture", "NFQUEUE " + std::to_string(capture_queue_num) + "; " + leftover_redirect_hint()}};
}

std::string leftover_redirect_hint() { return "see them with `sudo iptables-save | grep DROVER` and ip6tables-save"; }

result<std::unique_ptr<redirector>> install_redirect(const redirect_plan& plan) {
  auto p = linux_params_for(plan);
  auto rules = std::make_unique<linux_rules>(p);  // from here on, failure cleans up
  if (auto st = apply_rules(plan.inputs, p); !st) return st.err();
  return std::unique_ptr<redirector>(std::move(rules));
}

}  // namespace drover::platform
