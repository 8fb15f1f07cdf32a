// HeaderMap: case-insensitive lookup, ordering, removal, reuse.
#include "proxy/http/header_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

std::vector<std::string> flatten(const HeaderMap& h) {
  std::vector<std::string> out;
  h.forEach([&](std::string_view n, std::string_view v) { out.push_back(std::string(n) + "=" + std::string(v)); });
  return out;
}

TEST(HeaderMapTest, LookupIsCaseInsensitiveAndKeepsCase) {
  HeaderMap h;
  h.add("Content-Type", "text/plain");
  EXPECT_EQ(h.get("content-type"), "text/plain");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "text/plain");
  EXPECT_FALSE(h.get("content-length").has_value());
  EXPECT_TRUE(h.has("Content-type"));
  EXPECT_EQ(flatten(h), std::vector<std::string>{"Content-Type=text/plain"});
}

TEST(HeaderMapTest, GetReturnsFirstOfDuplicates) {
  HeaderMap h;
  h.add("set-cookie", "a=1");
  h.add("Set-Cookie", "b=2");
  EXPECT_EQ(h.get("set-cookie"), "a=1");
  EXPECT_EQ(h.size(), 2u);
}

TEST(HeaderMapTest, PseudoHeadersComeFirst) {
  HeaderMap h;
  h.add("x-a", "1");
  h.add(headers::kMethod, "GET");
  h.add("x-b", "2");
  h.add(headers::kPath, "/");
  EXPECT_EQ(flatten(h), (std::vector<std::string>{":method=GET", ":path=/", "x-a=1", "x-b=2"}));
  EXPECT_EQ(h.method(), "GET");
  EXPECT_EQ(h.path(), "/");
  EXPECT_EQ(h.authority(), "");
}

TEST(HeaderMapTest, RemoveAndSetUpdateCounts) {
  HeaderMap h;
  h.add("a", "1");
  h.add("B", "22");
  h.add("b", "333");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.byteSize(), 2u + 3u + 4u);
  EXPECT_EQ(h.remove("b"), 2u);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.byteSize(), 2u);
  EXPECT_EQ(h.remove("b"), 0u);
  h.set("a", "9");
  h.set("c", "x");
  EXPECT_EQ(flatten(h), (std::vector<std::string>{"a=9", "c=x"}));
  EXPECT_FALSE(h.empty());
}

TEST(HeaderMapTest, ClearEmptiesAndAllowsReuse) {
  HeaderMap h;
  for (int i = 0; i < 50; ++i) h.add("name-" + std::to_string(i), std::string(100, 'v'));
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.byteSize(), 0u);
  EXPECT_FALSE(h.has("name-1"));
  h.add("a", "b");
  EXPECT_EQ(flatten(h), std::vector<std::string>{"a=b"});
}

TEST(HeaderMapTest, Status) {
  HeaderMap h;
  EXPECT_EQ(h.status(), 0);
  h.setStatus(404);
  EXPECT_EQ(h.get(headers::kStatus), "404");
  EXPECT_EQ(h.status(), 404);
  h.setStatus(200);
  EXPECT_EQ(h.status(), 200);
  EXPECT_EQ(h.size(), 1u);
  h.set(headers::kStatus, "2x0");
  EXPECT_EQ(h.status(), 0);
  h.set(headers::kStatus, "-12");
  EXPECT_EQ(h.status(), 0);
}

TEST(HeaderMapTest, EqualsIgnoreCase) {
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("abc", "abd"));
  EXPECT_FALSE(equalsIgnoreCase("abc", "abcd"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
}

// Maps that live one request hand their storage to the next map on the
// thread: the next map starts empty, whatever the last one held.
TEST(HeaderMapTest, AMapMadeAfterAnotherDiedStartsEmpty) {
  {
    HeaderMap dying;
    dying.add(":method", "GET");
    dying.add("x-secret", std::string(300, 's'));
  }
  HeaderMap next;
  EXPECT_TRUE(next.empty());
  next.add("x-one", "1");
  EXPECT_EQ(next.size(), 1u);
  EXPECT_EQ(next.byteSize(), 6u);
  EXPECT_FALSE(next.has("x-secret"));
  EXPECT_FALSE(next.has(":method"));
  std::vector<std::string> seen;
  next.forEach([&](std::string_view n, std::string_view v) { seen.push_back(std::string(n) + "=" + std::string(v)); });
  EXPECT_EQ(seen, std::vector<std::string>{"x-one=1"});
}

TEST(HeaderMapTest, CopiesAndMovesKeepTheirFieldsAcrossRecycling) {
  HeaderMap original;
  original.add("a", "1");
  original.add("b", "2");
  HeaderMap copy = original;
  HeaderMap moved = std::move(original);
  { HeaderMap dying = std::move(copy); }  // its storage goes to the spares
  HeaderMap fresh;
  fresh.add("c", "3");
  EXPECT_EQ(moved.get("a"), "1");
  EXPECT_EQ(moved.get("b"), "2");
  EXPECT_EQ(fresh.get("c"), "3");
  EXPECT_FALSE(fresh.has("a"));
}

}  // namespace
}  // namespace sluice::http
