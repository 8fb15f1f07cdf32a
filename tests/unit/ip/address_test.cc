#include "ip/address.h"

#include <gtest/gtest.h>

namespace sluice::ip {
namespace {

TEST(AddressTest, ParsesIpv4) {
  auto a = Address::parse("127.0.0.1:8080");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 8080);
  EXPECT_EQ(a->sockLen(), sizeof(sockaddr_in));
  EXPECT_EQ(a->str(), "127.0.0.1:8080");
}

TEST(AddressTest, ParsesBracketedIpv6) {
  auto a = Address::parse("[::1]:443");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->port(), 443);
  EXPECT_EQ(a->sockLen(), sizeof(sockaddr_in6));
  EXPECT_EQ(a->str(), "[::1]:443");
  // Printed in canonical form, so equal addresses compare equal.
  EXPECT_EQ(Address::parse("[0:0::1]:443"), a);
}

TEST(AddressTest, PortBounds) {
  EXPECT_EQ(Address::parse("0.0.0.0:0")->port(), 0);
  EXPECT_EQ(Address::parse("0.0.0.0:65535")->port(), 65535);
  std::string why;
  EXPECT_FALSE(Address::parse("0.0.0.0:65536", &why));
  EXPECT_EQ(why, "port out of range");
}

TEST(AddressTest, RejectsWithReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1", "missing port (expected host:port)"},
      {"127.0.0.1:", "missing port"},
      {"[::1]", "missing port"},
      {"[::1]80", "missing port"},
      {"[::1:80", "missing ']' in IPv6 address"},
      {"::1:80", "IPv6 address must be in brackets"},
      {"127.0.0.1:http", "port is not a number"},
      {"127.0.0.1:-1", "port is not a number"},
      {"127.0.0.1:99999999999999999999", "port is not a number"},
      {"localhost:80", "invalid IP address"},
      {"256.0.0.1:80", "invalid IP address"},
      {"garbage", "missing port (expected host:port)"},
      {"", "missing port (expected host:port)"},
  };
  for (const auto& [text, reason] : cases) {
    std::string why;
    EXPECT_FALSE(Address::parse(text, &why).has_value()) << text;
    EXPECT_EQ(why, reason) << text;
  }
}

TEST(AddressTest, WithPortAndSockaddrRoundTrip) {
  auto a = *Address::parse("10.1.2.3:0");
  EXPECT_EQ(a.withPort(9000).str(), "10.1.2.3:9000");
  EXPECT_EQ(a.port(), 0);  // withPort returns a copy
  auto b = Address::fromSockaddr(a.sockAddr(), a.sockLen());
  EXPECT_EQ(b, a);
  EXPECT_EQ(Address().str(), "<unset>");
}

}  // namespace
}  // namespace sluice::ip
