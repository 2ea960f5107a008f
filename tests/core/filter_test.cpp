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
  EXPECT_NE(f->find("outbound and !loopback and (tcp or udp)"), std::string::npos);
  EXPECT_NE(f->find("not ip.DstAddr == 95.165.72.59"), std::string::npos);
  EXPECT_NE(f->find("(ip.DstAddr >= 10.0.0.0 and ip.DstAddr <= 10.255.255.255)"), std::string::npos);
  EXPECT_NE(f->find("(ip.DstAddr >= 224.0.0.0 and ip.DstAddr <= 239.255.255.255)"), std::string::npos);
  EXPECT_NE(f->find("(ip.DstAddr >= 127.0.0.0 and ip.DstAddr <= 127.255.255.255)"), std::string::npos);
  EXPECT_NE(f->find("(ip.DstAddr >= 169.254.0.0 and ip.DstAddr <= 169.254.255.255)"), std::string::npos);
  EXPECT_LE(windivert_instructions(*f), windivert_max_instructions);
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
