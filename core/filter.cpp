#include "core/filter.hpp"

#include <map>
#include <set>
#include <sstream>

namespace drover::filter {
namespace {

// First and last address of a CIDR, as WinDivert literals.
std::pair<std::string, std::string> bounds(const cidr& c) {
  endpoint lo, hi;
  lo.k = hi.k = c.k;
  unsigned bytes = c.k == endpoint::kind::v4 ? 4 : 16;
  for (unsigned i = 0; i < bytes; ++i) {
    int bits = static_cast<int>(c.prefix) - static_cast<int>(i * 8);
    uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    lo.ip[i] = c.net[i] & mask;
    hi.ip[i] = static_cast<uint8_t>(lo.ip[i] | static_cast<uint8_t>(~mask));
  }
  return {lo.addr_string(), hi.addr_string()};
}

// "Not in this range", in the grammar WinDivert 2.2's compiler accepts:
// `not` applies to a single test only, never to a parenthesis, so an
// exclusion is `!=` or `(x < lo or x > hi)`.
std::string exclusion_clause(const cidr& c) {
  auto b = bounds(c);
  const char* field = c.k == endpoint::kind::v4 ? "ip.DstAddr" : "ipv6.DstAddr";
  if (b.first == b.second) return std::string(field) + " != " + b.first;
  return "(" + std::string(field) + " < " + b.first + " or " + field + " > " + b.second + ")";
}

// The exclusions of one family joined by `and`; `true` when there are none.
std::string all_of(const std::vector<std::string>& clauses) {
  if (clauses.empty()) return "true";
  std::string out;
  for (auto& c : clauses) out += (out.empty() ? "" : " and ") + c;
  return out;
}

std::vector<cidr> always_skipped(const inputs& in, bool v6) {
  std::vector<std::string> list =
      v6 ? std::vector<std::string>{"::1/128", "fe80::/10"} : std::vector<std::string>{"127.0.0.0/8", "169.254.0.0/16"};
  if (in.skip_multicast) list.push_back(v6 ? "ff00::/8" : "224.0.0.0/4");
  std::vector<cidr> out;
  for (auto& s : list) out.push_back(*parse_cidr(s));
  return out;
}

}  // namespace

int windivert_instructions(const std::string& f) {
  int n = 0;
  // Comparisons: ==, !=, <=, >=, and a lone < or > (one instruction each).
  for (size_t i = 0; i < f.size(); ++i) {
    char ch = f[i];
    bool two = i + 1 < f.size() && f[i + 1] == '=' && (ch == '=' || ch == '!' || ch == '<' || ch == '>');
    if (two) {
      ++n;
      ++i;
    } else if (ch == '<' || ch == '>') {
      ++n;
    }
  }
  for (const char* word : {"outbound", "loopback", "tcp", "udp", "ip ", "ipv6 "}) {
    std::string w(word);
    for (size_t pos = f.find(w); pos != std::string::npos; pos = f.find(w, pos + w.size())) {
      bool field = pos + w.size() < f.size() && f[pos + w.size()] == '.';
      if (!field) ++n;
    }
  }
  return n;
}

result<std::string> windivert(const inputs& in) {
  std::vector<cidr> skips = always_skipped(in, false);
  auto v6 = always_skipped(in, true);
  skips.insert(skips.end(), v6.begin(), v6.end());
  for (auto& u : in.upstream) {
    if (!u.is_ip()) return make_error("filter", "upstream must be resolved before building the filter");
    cidr c;
    c.k = u.k;
    c.net = u.ip;
    c.prefix = u.k == endpoint::kind::v4 ? 32 : 128;
    skips.push_back(c);
  }
  skips.insert(skips.end(), in.extra_skip.begin(), in.extra_skip.end());
  std::vector<std::string> v4_out, v6_out;
  for (auto& c : skips) (c.k == endpoint::kind::v4 ? v4_out : v6_out).push_back(exclusion_clause(c));
  // A field of one family is false on the other's packets: unguarded, every
  // IPv4 exclusion would also exclude every IPv6 packet. The ternary picks
  // each packet's own family.
  std::string f =
      "outbound and !loopback and (tcp or udp) and (ip ? (" + all_of(v4_out) + ") : (" + all_of(v6_out) + "))";
  int n = windivert_instructions(f);
  if (n > windivert_max_instructions)
    return make_error("filter", "filter needs " + std::to_string(n) + " instructions; WinDivert allows " +
                                    std::to_string(windivert_max_instructions) + " (too many skip.extra_skip_cidrs)");
  return f;
}

std::string linux_install(const inputs& in, const linux_params& p, family f) {
  bool v6 = f == family::v6;
  auto hex = [](uint32_t m) {
    std::ostringstream o;
    o << "0x" << std::hex << m;
    return o.str();
  };
  std::ostringstream os;
  // Replies Drover fabricates for apps create no conntrack entry (see
  // mark::own_reply); raw OUTPUT runs before conntrack.
  os << "*raw\n:DROVER_RAW - [0:0]\n";
  os << "-A DROVER_RAW -m mark --mark " << hex(mark::own_reply) << " -j CT --notrack\n";
  os << "-I OUTPUT 1 -j DROVER_RAW\nCOMMIT\n";
  os << "*mangle\n:DROVER_OUT - [0:0]\n:DROVER_PRE - [0:0]\n";
  // Own sockets first: a verdict mark replaces skb->mark, so this must lead.
  os << "-A DROVER_OUT -m mark --mark " << hex(mark::own) << " -j RETURN\n";
  os << "-A DROVER_OUT -m mark --mark " << hex(mark::own_reply) << " -j RETURN\n";
  // Later packets of a decided flow leave at once. Direct and redirected TCP
  // flows need no mark on them (NAT remembers the redirect): setting one
  // would make the kernel route every packet again (bench: non-target
  // throughput). UDP to TPROXY and refused flows do need it; only the
  // original direction, or replies would be steered back into lo.
  os << "-A DROVER_OUT -m connmark --mark " << hex(mark::direct) << " -j RETURN\n";
  os << "-A DROVER_OUT -m connmark --mark " << hex(mark::redirect_tcp) << " -j RETURN\n";
  os << "-A DROVER_OUT -m conntrack --ctdir ORIGINAL -m connmark ! --mark 0 -j CONNMARK --restore-mark\n";
  os << "-A DROVER_OUT -m mark ! --mark 0 -j RETURN\n";
  os << "-A DROVER_OUT -o lo -j RETURN\n";
  for (auto& u : in.upstream)
    if (u.is_ip() && (u.k == endpoint::kind::v6) == v6) os << "-A DROVER_OUT -d " << u.addr_string() << " -j RETURN\n";
  for (auto& c : always_skipped(in, v6)) os << "-A DROVER_OUT -d " << c.to_string() << " -j RETURN\n";
  for (auto& c : in.extra_skip)
    if ((c.k == endpoint::kind::v6) == v6) os << "-A DROVER_OUT -d " << c.to_string() << " -j RETURN\n";
  std::string q = "-j NFQUEUE --queue-num " + std::to_string(p.queue_num) + (p.fail_open ? " --queue-bypass" : "");
  os << "-A DROVER_OUT -p tcp --syn -m conntrack --ctstate NEW " << q << "\n";
  os << "-A DROVER_OUT -p udp -m conntrack --ctstate NEW " << q << "\n";
  // Flows older than the rules (the app ran before Drover started) carry no
  // verdict yet: their next packet is decided once, like a first one.
  os << "-A DROVER_OUT -p tcp -m conntrack --ctdir ORIGINAL -m connmark --mark 0 " << q << "\n";
  os << "-A DROVER_OUT -p udp -m conntrack --ctdir ORIGINAL -m connmark --mark 0 " << q << "\n";
  if (!v6)
    os << "-A DROVER_PRE -i lo -p udp -m mark --mark " << hex(mark::redirect_udp) << " -j TPROXY --on-port "
       << p.udp_port << " --on-ip 127.0.0.1 --tproxy-mark " << hex(mark::redirect_udp) << "\n";
  os << "-I OUTPUT 1 -j DROVER_OUT\n-I PREROUTING 1 -j DROVER_PRE\nCOMMIT\n";

  os << "*nat\n:DROVER_NAT - [0:0]\n";
  os << "-A DROVER_NAT -m mark --mark " << hex(mark::own) << " -j RETURN\n";
  // NFQUEUE's accept ends the mangle chain, so the verdict is saved here.
  os << "-A DROVER_NAT -m mark ! --mark 0 -j CONNMARK --save-mark\n";
  if (!v6)
    os << "-A DROVER_NAT -p tcp -m mark --mark " << hex(mark::redirect_tcp) << " -j REDIRECT --to-ports " << p.tcp_port
       << "\n";
  os << "-I OUTPUT 1 -j DROVER_NAT\nCOMMIT\n";

  os << "*filter\n:DROVER_FLT - [0:0]\n";
  // nat sees only a flow's first packet: a verdict given to an older flow's
  // packet is kept here, so its later packets skip the queue. Not a refusal:
  // it may be "not yet" (Starting), and the flow must be asked again later.
  for (uint32_t m : {mark::redirect_udp, mark::direct})
    os << "-A DROVER_FLT -m connmark --mark 0 -m mark --mark " << hex(m) << " -j CONNMARK --save-mark\n";
  os << "-A DROVER_FLT -p tcp -m mark --mark " << hex(mark::refuse) << " -j REJECT --reject-with tcp-reset\n";
  os << "-A DROVER_FLT -m mark --mark " << hex(mark::refuse) << " -j REJECT --reject-with "
     << (v6 ? "icmp6-port-unreachable" : "icmp-port-unreachable") << "\n";
  os << "-I OUTPUT 1 -j DROVER_FLT\nCOMMIT\n";
  return os.str();
}

std::vector<std::vector<std::string>> linux_cleanup(family f) {
  std::string tool = f == family::v6 ? "ip6tables" : "iptables";
  std::vector<std::vector<std::string>> out;
  struct hook {
    const char *table, *builtin, *chain;
  };
  for (auto h : {hook{"raw", "OUTPUT", "DROVER_RAW"}, hook{"mangle", "OUTPUT", "DROVER_OUT"},
                 hook{"mangle", "PREROUTING", "DROVER_PRE"}, hook{"nat", "OUTPUT", "DROVER_NAT"},
                 hook{"filter", "OUTPUT", "DROVER_FLT"}}) {
    out.push_back({tool, "-w", "-t", h.table, "-D", h.builtin, "-j", h.chain});
    out.push_back({tool, "-w", "-t", h.table, "-F", h.chain});
    out.push_back({tool, "-w", "-t", h.table, "-X", h.chain});
  }
  return out;
}

namespace {

// Drover's chains and jumps per table, as iptables-save lists them.
struct saved_table {
  std::set<std::string> chains;
  std::vector<std::string> jump_deletes;  ///< "-D OUTPUT -j DROVER_OUT", once per saved copy
};

std::map<std::string, saved_table> drover_parts(const std::string& saved) {
  std::map<std::string, saved_table> out;
  std::istringstream in(saved);
  std::string line, table;
  while (std::getline(in, line)) {
    if (line.rfind("*", 0) == 0) {
      table = line.substr(1);
    } else if (line.rfind(":DROVER_", 0) == 0) {
      out[table].chains.insert(line.substr(1, line.find(' ') - 1));
    } else if (line.rfind("-A ", 0) == 0 && line.find(" -j DROVER_") != std::string::npos &&
               line.rfind("-A DROVER_", 0) != 0) {
      out[table].jump_deletes.push_back("-D" + line.substr(2));
    }
  }
  return out;
}

}  // namespace

std::string linux_cleanup_script(const std::string& saved) {
  std::string out;
  for (auto& [table, part] : drover_parts(saved)) {
    if (part.chains.empty() && part.jump_deletes.empty()) continue;
    out += "*" + table + "\n";
    for (auto& d : part.jump_deletes) out += d + "\n";
    for (auto& c : part.chains) out += "-F " + c + "\n-X " + c + "\n";
    out += "COMMIT\n";
  }
  return out;
}

std::string linux_replace_script(const std::string& saved, const inputs& in, const linux_params& p, family f) {
  auto parts = drover_parts(saved);
  std::istringstream install(linux_install(in, p, f));
  std::ostringstream out;
  std::string line, table;
  bool old_jumps_out = false;
  while (std::getline(install, line)) {
    if (line.rfind("*", 0) == 0) {
      table = line.substr(1);
      old_jumps_out = false;
    } else if (line.rfind(":DROVER_", 0) == 0) {
      std::string chain = line.substr(1, line.find(' ') - 1);
      // An existing chain is emptied and refilled, never deleted.
      if (parts[table].chains.count(chain)) line = "-F " + chain;
    } else if (!old_jumps_out && (line.rfind("-A ", 0) == 0 || line.rfind("-I ", 0) == 0)) {
      // The old jumps go in the same transaction as the new ones come.
      for (auto& d : parts[table].jump_deletes) out << d << "\n";
      old_jumps_out = true;
    }
    out << line << "\n";
  }
  return out.str();
}

std::vector<std::vector<std::string>> linux_route_add(const linux_params& p, family f) {
  std::string fam = f == family::v6 ? "-6" : "-4";
  std::string table = std::to_string(p.route_table);
  std::string m = std::to_string(mark::redirect_udp);
  return {
      {"ip", fam, "rule", "add", "fwmark", m, "lookup", table},
      {"ip", fam, "route", "replace", "local", f == family::v6 ? "::/0" : "0.0.0.0/0", "dev", "lo", "table", table}};
}

std::vector<std::vector<std::string>> linux_route_del(const linux_params& p, family f) {
  std::string fam = f == family::v6 ? "-6" : "-4";
  std::string table = std::to_string(p.route_table);
  return {{"ip", fam, "rule", "del", "fwmark", std::to_string(mark::redirect_udp), "lookup", table},
          {"ip", fam, "route", "flush", "table", table}};
}

}  // namespace drover::filter
