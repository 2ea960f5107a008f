#include "core/filter.hpp"

#include <gtest/gtest.h>

using namespace drover;
using namespace drover::filter;

TEST(filter, windivert_string_has_no_pids_and_skips_upstream) {
  inputs in;
  in.own_pid = 4242;
  in.upstream = {*parse_ip("95.165.72.59", 12334)};
  in.extra_skip = {*parse_cidr("10.0.0.0/8")};
  auto f = windivert(in);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->find("processId"), std::string::npos) << "processId is invalid at the NETWORK layer";
  EXPECT_EQ(f->find("4242"), std::string::npos);
  // The whole string: each family's exclusions behind the `ip ?` guard.
  EXPECT_EQ(*f,
            "outbound and !loopback and (tcp or udp) and (ip ? ("
            "(ip.DstAddr < 127.0.0.0 or ip.DstAddr > 127.255.255.255) and "
            "(ip.DstAddr < 169.254.0.0 or ip.DstAddr > 169.254.255.255) and "
            "(ip.DstAddr < 224.0.0.0 or ip.DstAddr > 239.255.255.255) and "
            "ip.DstAddr != 95.165.72.59 and "
            "(ip.DstAddr < 10.0.0.0 or ip.DstAddr > 10.255.255.255)) : ("
            "ipv6.DstAddr != 0:0:0:0:0:0:0:1 and "
            "(ipv6.DstAddr < fe80:0:0:0:0:0:0:0 or ipv6.DstAddr > febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff) and "
            "(ipv6.DstAddr < ff00:0:0:0:0:0:0:0 or ipv6.DstAddr > ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff)))");
  EXPECT_LE(windivert_instructions(*f), windivert_max_instructions);
}

// WinDivert 2.2's compiler rejects `not`/`!` before a parenthesis (measured:
// "Filter expression parse error" at the first one); every negation here is
// a single comparison.
TEST(filter, windivert_never_negates_a_parenthesis) {
  inputs in;
  in.upstream = {*parse_ip("2001:db8::7", 1080), *parse_ip("198.51.100.3", 1080)};
  in.extra_skip = {*parse_cidr("192.168.0.0/16"), *parse_cidr("fd00::/8")};
  in.skip_multicast = false;
  auto f = windivert(in);
  ASSERT_TRUE(f.ok());
  for (const char* bad : {"not (", "!(", "! (", "not  ("}) EXPECT_EQ(f->find(bad), std::string::npos) << bad;
  EXPECT_EQ(f->find("not "), std::string::npos);
  EXPECT_NE(f->find("ipv6.DstAddr != 2001:db8:0:0:0:0:0:7"), std::string::npos);
  EXPECT_NE(f->find("(ipv6.DstAddr < fd00:0:0:0:0:0:0:0 or ipv6.DstAddr > fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff)"),
            std::string::npos);
  EXPECT_EQ(f->find("224.0.0.0"), std::string::npos) << "multicast kept when not skipped";
  // IPv6 exclusions only after the guard's ':', IPv4 ones only before it.
  auto colon = f->find(") : (");
  ASSERT_NE(colon, std::string::npos);
  EXPECT_EQ(f->find("ipv6."), f->find("ipv6.", colon));
  EXPECT_LT(f->rfind("ip.DstAddr"), colon);
}

TEST(filter, windivert_instructions_counts_every_comparison) {
  EXPECT_EQ(windivert_instructions("outbound and !loopback and (tcp or udp)"), 4);
  EXPECT_EQ(windivert_instructions("(ip.DstAddr < 1.0.0.0 or ip.DstAddr > 1.0.0.255)"), 2);
  EXPECT_EQ(windivert_instructions("ip ? (ip.DstAddr != 1.2.3.4) : (ipv6.DstAddr <= ::1)"), 3);
}

TEST(filter, windivert_limit_enforced) {
  inputs in;
  for (int i = 0; i < 200; ++i) in.extra_skip.push_back(*parse_cidr("10." + std::to_string(i) + ".0.0/16"));
  auto f = windivert(in);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.err().message.find("256"), std::string::npos);
  inputs unresolved;
  unresolved.upstream = {endpoint::name("proxy.example", 1080)};
  EXPECT_FALSE(windivert(unresolved).ok());
}

TEST(filter, linux_rules_order_and_content) {
  inputs in;
  in.upstream = {*parse_ip("10.9.0.2", 1080)};
  in.extra_skip = {*parse_cidr("192.0.2.0/24"), *parse_cidr("2001:db8::/32")};
  linux_params p;
  p.queue_num = 7;
  p.tcp_port = 40001;
  p.udp_port = 40002;
  auto v4 = linux_install(in, p, family::v4);
  auto own = v4.find("--mark 0x7 -j RETURN");
  auto restore = v4.find("--restore-mark");
  auto queue = v4.find("NFQUEUE --queue-num 7");
  ASSERT_NE(own, std::string::npos);
  ASSERT_NE(restore, std::string::npos);
  ASSERT_NE(queue, std::string::npos);
  EXPECT_LT(own, restore) << "own-mark RETURN must come first";
  EXPECT_LT(restore, queue);
  // Established direct and redirected-TCP flows leave before the restore (a
  // mark set on every packet would re-route each one); TPROXY'd UDP and
  // refused flows keep their mark.
  auto direct = v4.find("-m connmark --mark 0x40 -j RETURN");
  auto tcp = v4.find("-m connmark --mark 0x10 -j RETURN");
  ASSERT_NE(direct, std::string::npos);
  ASSERT_NE(tcp, std::string::npos);
  EXPECT_LT(own, direct);
  EXPECT_LT(direct, restore);
  EXPECT_LT(tcp, restore);
  EXPECT_EQ(v4.find("-m connmark --mark 0x20 -j RETURN"), std::string::npos);
  EXPECT_EQ(v4.find("-m connmark --mark 0x30 -j RETURN"), std::string::npos);
  EXPECT_NE(v4.find("--ctdir ORIGINAL"), std::string::npos);
  EXPECT_NE(v4.find("-d 10.9.0.2 -j RETURN"), std::string::npos);
  EXPECT_NE(v4.find("-d 192.0.2.0/24 -j RETURN"), std::string::npos);
  EXPECT_EQ(v4.find("2001:db8"), std::string::npos) << "v6 range in v4 rules";
  EXPECT_NE(v4.find("REDIRECT --to-ports 40001"), std::string::npos);
  EXPECT_NE(v4.find("TPROXY --on-port 40002 --on-ip 127.0.0.1"), std::string::npos);
  EXPECT_NE(v4.find("--save-mark"), std::string::npos);
  EXPECT_EQ(v4.find("--queue-bypass"), std::string::npos) << "fail-closed by default";
  auto v6 = linux_install(in, p, family::v6);
  EXPECT_NE(v6.find("-d 2001:db8:0:0:0:0:0:0/32"), std::string::npos);
  EXPECT_NE(v6.find("icmp6-port-unreachable"), std::string::npos);
  EXPECT_EQ(v6.find("TPROXY"), std::string::npos);
  EXPECT_EQ(linux_cleanup(family::v6)[0][0], "ip6tables");
}

TEST(filter, cleanup_script_from_saved_rules) {
  const char* saved =
      "# Generated by iptables-save\n"
      "*mangle\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:DROVER_OUT - [0:0]\n:DROVER_PRE - [0:0]\n"
      "-A PREROUTING -j DROVER_PRE\n-A OUTPUT -j DROVER_OUT\n-A OUTPUT -j DROVER_OUT\n"
      "-A DROVER_OUT -m mark --mark 0x7 -j RETURN\nCOMMIT\n"
      "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j OTHER_CHAIN\nCOMMIT\n";
  auto script = linux_cleanup_script(saved);
  EXPECT_EQ(script,
            "*mangle\n-D PREROUTING -j DROVER_PRE\n-D OUTPUT -j DROVER_OUT\n-D OUTPUT -j DROVER_OUT\n"
            "-F DROVER_OUT\n-X DROVER_OUT\n-F DROVER_PRE\n-X DROVER_PRE\nCOMMIT\n");
  EXPECT_EQ(linux_cleanup_script("*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"), "");
}

TEST(filter, replace_script_swaps_rules_in_one_transaction_per_table) {
  inputs in;
  linux_params p;
  p.tcp_port = 41000;
  p.udp_port = 41001;
  // A previous run's rules (a restart, or a crash): one mangle jump saved
  // twice, the other chains present.
  const char* saved =
      "*mangle\n:OUTPUT ACCEPT [0:0]\n:DROVER_OUT - [0:0]\n:DROVER_PRE - [0:0]\n"
      "-A PREROUTING -j DROVER_PRE\n-A OUTPUT -j DROVER_OUT\n-A OUTPUT -j DROVER_OUT\n"
      "-A DROVER_OUT -m mark --mark 0x7 -j RETURN\nCOMMIT\n"
      "*nat\n:OUTPUT ACCEPT [0:0]\n:DROVER_NAT - [0:0]\n-A OUTPUT -j DROVER_NAT\nCOMMIT\n";
  auto script = linux_replace_script(saved, in, p, family::v4);
  // Existing chains are flushed (not re-declared, not deleted); a chain
  // that did not exist is declared.
  EXPECT_NE(script.find("*mangle\n-F DROVER_OUT\n-F DROVER_PRE\n-D PREROUTING -j DROVER_PRE\n-D OUTPUT -j DROVER_OUT\n"
                        "-D OUTPUT -j DROVER_OUT\n-A DROVER_OUT"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("*nat\n-F DROVER_NAT\n-D OUTPUT -j DROVER_NAT\n-A DROVER_NAT"), std::string::npos) << script;
  EXPECT_NE(script.find("*filter\n:DROVER_FLT - [0:0]\n-A DROVER_FLT"), std::string::npos) << script;
  EXPECT_EQ(script.find("-X "), std::string::npos) << "nothing is deleted: no moment without rules";
  // Every table ends in its own COMMIT, new jumps included before it.
  EXPECT_NE(script.find("-I OUTPUT 1 -j DROVER_OUT\n-I PREROUTING 1 -j DROVER_PRE\nCOMMIT\n"), std::string::npos);
  // Nothing saved: the plain install.
  EXPECT_EQ(linux_replace_script("", in, p, family::v4), linux_install(in, p, family::v4));
}
