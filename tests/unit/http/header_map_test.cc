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

// Lookups skip the slots when no name of that length (modulo 64) was
// added: names 64 apart share a bit, long names are found, and clear()
// forgets every length.
TEST(HeaderMapTest, LookupsByNameLengthFindLongNamesAndForgetOnClear) {
  HeaderMap h;
  const std::string long_name = "x-" + std::string(68, 'n');  // 70: shares a bit with 6
  h.add(long_name, "long");
  h.add("abc", "short");
  EXPECT_EQ(h.get(long_name), "long");
  EXPECT_EQ(h.get("x-" + std::string(68, 'N')), "long");
  EXPECT_FALSE(h.get("abcdef").has_value());  // length 6: same bit, walked, absent
  EXPECT_FALSE(h.get("abcd").has_value());
  EXPECT_EQ(h.remove("ABC"), 1u);
  EXPECT_EQ(h.remove("abcdefgh"), 0u);
  h.clear();
  EXPECT_FALSE(h.get(long_name).has_value());
  h.add("abc", "again");
  EXPECT_EQ(h.get("abc"), "again");
  EXPECT_FALSE(h.get(long_name).has_value());
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
  // Every pair of bytes against the plain definition: only A-Z and a-z fold
  // (not '@'/'`', '['/'{', '^'/'~' or bytes above 0x7f, one bit apart too).
  auto fold = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char x = static_cast<char>(a);
      const char y = static_cast<char>(b);
      ASSERT_EQ(equalsIgnoreCase({&x, 1}, {&y, 1}), fold(a) == fold(b)) << a << " " << b;
    }
  }
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
