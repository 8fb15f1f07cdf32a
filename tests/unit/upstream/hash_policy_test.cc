// Request hash keys: each policy kind, first-match order, no match.
#include <gtest/gtest.h>

#include "proxy/upstream/hash_policy.h"
#include "proxy/util/hash.h"

namespace sluice::upstream {
namespace {

using Kind = config::HashPolicyConfig::Kind;

config::HashPolicyConfig policy(Kind kind, std::string name = "") { return {kind, std::move(name)}; }

http::HeaderMap request(std::string_view path) {
  http::HeaderMap h;
  h.add(":method", "GET");
  h.add(":path", path);
  return h;
}

TEST(HashPolicyTest, Header) {
  auto h = request("/");
  h.add("X-User", "alice");
  std::vector<config::HashPolicyConfig> p{policy(Kind::Header, "x-user")};
  EXPECT_EQ(hashRequest(p, h, nullptr), util::hash64("alice"));
}

TEST(HashPolicyTest, CookieAmongSeveral) {
  auto h = request("/");
  h.add("cookie", "theme=dark; session=abc123;lang=en");
  std::vector<config::HashPolicyConfig> p{policy(Kind::Cookie, "session")};
  EXPECT_EQ(hashRequest(p, h, nullptr), util::hash64("abc123"));
  p[0].name = "lang";
  EXPECT_EQ(hashRequest(p, h, nullptr), util::hash64("en"));
  // Names match exactly: no prefix or case-insensitive hits.
  p[0].name = "sess";
  EXPECT_EQ(hashRequest(p, h, nullptr), std::nullopt);
  p[0].name = "Session";
  EXPECT_EQ(hashRequest(p, h, nullptr), std::nullopt);
}

TEST(HashPolicyTest, CookieInSecondCookieField) {
  auto h = request("/");
  h.add("Cookie", "a=1");
  h.add("cookie", "b=2; session=xyz");
  std::vector<config::HashPolicyConfig> p{policy(Kind::Cookie, "session")};
  EXPECT_EQ(hashRequest(p, h, nullptr), util::hash64("xyz"));
}

TEST(HashPolicyTest, QueryParameterAmongSeveral) {
  auto h = request("/items?page=2&user=bob&user_id=7#frag");
  std::vector<config::HashPolicyConfig> p{policy(Kind::QueryParameter, "user")};
  EXPECT_EQ(hashRequest(p, h, nullptr), util::hash64("bob"));
  p[0].name = "user_id";
  EXPECT_EQ(hashRequest(p, h, nullptr), util::hash64("7"));
  p[0].name = "use";
  EXPECT_EQ(hashRequest(p, h, nullptr), std::nullopt);
  // A parameter without '=' yields the empty value; a bare path yields nothing.
  auto flag = request("/x?debug&y=1");
  p[0].name = "debug";
  EXPECT_EQ(hashRequest(p, flag, nullptr), util::hash64(""));
  EXPECT_EQ(hashRequest(p, request("/debug"), nullptr), std::nullopt);
}

TEST(HashPolicyTest, SourceIpIgnoresPort) {
  auto h = request("/");
  std::vector<config::HashPolicyConfig> p{policy(Kind::SourceIp)};
  const auto a = *ip::Address::parse("192.0.2.7:4000");
  const auto b = *ip::Address::parse("192.0.2.7:5000");
  EXPECT_EQ(hashRequest(p, h, &a), util::hash64("192.0.2.7"));
  EXPECT_EQ(hashRequest(p, h, &b), hashRequest(p, h, &a));
  const auto v6 = *ip::Address::parse("[2001:db8::1]:443");
  EXPECT_EQ(hashRequest(p, h, &v6), util::hash64("2001:db8::1"));
  EXPECT_EQ(hashRequest(p, h, nullptr), std::nullopt);
}

TEST(HashPolicyTest, FirstPolicyThatYieldsWins) {
  std::vector<config::HashPolicyConfig> p{policy(Kind::Header, "x-user"), policy(Kind::Cookie, "session"),
                                          policy(Kind::QueryParameter, "u"), policy(Kind::SourceIp)};
  const auto src = *ip::Address::parse("10.1.2.3:999");
  auto h = request("/?u=q");
  h.add("cookie", "session=c");
  h.add("x-user", "hdr");
  EXPECT_EQ(hashRequest(p, h, &src), util::hash64("hdr"));
  h.remove("x-user");
  EXPECT_EQ(hashRequest(p, h, &src), util::hash64("c"));
  h.remove("cookie");
  EXPECT_EQ(hashRequest(p, h, &src), util::hash64("q"));
  h.set(":path", "/");
  EXPECT_EQ(hashRequest(p, h, &src), util::hash64("10.1.2.3"));
  EXPECT_EQ(hashRequest(p, h, nullptr), std::nullopt);
}

TEST(HashPolicyTest, NothingMatches) {
  auto h = request("/a?b=c");
  h.add("cookie", "x=y");
  std::vector<config::HashPolicyConfig> p{policy(Kind::Header, "x-user"), policy(Kind::Cookie, "session"),
                                          policy(Kind::QueryParameter, "u")};
  EXPECT_EQ(hashRequest(p, h, nullptr), std::nullopt);
  EXPECT_EQ(hashRequest({}, h, nullptr), std::nullopt);
}

}  // namespace
}  // namespace sluice::upstream
