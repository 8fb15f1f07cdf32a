// SPIFFE ID parsing and matchers: plain strings, no certificates.
#include "identity/spiffe_id.h"

#include <gtest/gtest.h>

namespace sluice::identity {
namespace {

TEST(SpiffeIdTest, ParsesValidIds) {
  auto id = parseSpiffeId("spiffe://sluice.test/ns/default/sa/client");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->trust_domain, "sluice.test");
  EXPECT_EQ(id->path, "/ns/default/sa/client");
  EXPECT_EQ(id->str(), "spiffe://sluice.test/ns/default/sa/client");
  EXPECT_TRUE(parseSpiffeId("spiffe://a-b_c.9/x.y-z_W"));
  EXPECT_FALSE(parseSpiffeId("spiffe://td"));
  EXPECT_TRUE(parseSpiffeId("spiffe://td", nullptr, /*allow_bare_trust_domain=*/true));
}

TEST(SpiffeIdTest, RejectsInvalidIds) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://sluice.test/ns/a", "scheme"},
      {"SPIFFE://sluice.test/ns/a", "scheme"},
      {"spiffe:///ns/a", "empty trust domain"},
      {"spiffe://Sluice.test/ns/a", "lower case"},
      {"spiffe://sluice.test:8080/ns/a", "port"},
      {"spiffe://user@sluice.test/ns/a", "user info"},
      {"spiffe://sluice.test/ns//a", "empty path segment"},
      {"spiffe://sluice.test/ns/a/", "trailing slash"},
      {"spiffe://sluice.test/ns/../a", "'..'"},
      {"spiffe://sluice.test/ns/./a", "'.'"},
      {"spiffe://sluice.test/ns/a?x=1", "query"},
      {"spiffe://sluice.test/ns/a#f", "query or fragment"},
      {"spiffe://sluice.test/ns/a%20b", "invalid character"},
  };
  for (const auto& [uri, why_part] : cases) {
    std::string why;
    EXPECT_FALSE(parseSpiffeId(uri, &why)) << uri;
    EXPECT_NE(why.find(why_part), std::string::npos) << uri << ": " << why;
  }
  EXPECT_FALSE(parseSpiffeId("spiffe://td/" + std::string(2048, 'a')));
}

TEST(SpiffeIdTest, MatchersExactAndPrefix) {
  auto exact = SpiffeIdMatcher::parse("spiffe://sluice.test/ns/default/sa/client");
  ASSERT_TRUE(exact);
  EXPECT_TRUE(exact->matches("spiffe://sluice.test/ns/default/sa/client"));
  EXPECT_FALSE(exact->matches("spiffe://sluice.test/ns/default/sa/client2"));
  auto ns = SpiffeIdMatcher::parse("spiffe://sluice.test/ns/default/*");
  ASSERT_TRUE(ns);
  EXPECT_TRUE(ns->matches("spiffe://sluice.test/ns/default/sa/client"));
  EXPECT_FALSE(ns->matches("spiffe://sluice.test/ns/default"));
  EXPECT_FALSE(ns->matches("spiffe://sluice.test/ns/defaultx/sa/a"));  // segment boundary
  auto td = SpiffeIdMatcher::parse("spiffe://sluice.test/*");
  ASSERT_TRUE(td);
  EXPECT_TRUE(td->matches("spiffe://sluice.test/anything"));
  EXPECT_FALSE(td->matches("spiffe://sluice.testx/anything"));
  EXPECT_TRUE(anyMatches({*exact, *td}, "spiffe://sluice.test/x"));
  EXPECT_FALSE(anyMatches({}, "spiffe://sluice.test/x"));
  std::string why;
  EXPECT_FALSE(SpiffeIdMatcher::parse("spiffe://sluice.test/ns/*/sa/x", &why));
  EXPECT_NE(why.find("final path segment"), std::string::npos) << why;
  EXPECT_FALSE(SpiffeIdMatcher::parse("spiffe://sluice.test"));  // bare trust domain needs /*
}

}  // namespace
}  // namespace sluice::identity
