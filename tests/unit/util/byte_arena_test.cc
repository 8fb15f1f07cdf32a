// ByteArena: appends keep what was written before them across growth;
// copies are deep, moves take the storage; it passes through
// RecycledStorage like a std::string.
#include "proxy/util/byte_arena.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>

#include "proxy/util/recycled_storage.h"

namespace sluice::util {
namespace {

void put(ByteArena& a, std::string_view s) {
  char* to = a.append(s.size());
  if (!s.empty()) std::memcpy(to, s.data(), s.size());
}

std::string_view contents(const ByteArena& a) { return {a.data(), a.size()}; }

TEST(ByteArena, AppendsSurviveGrowthFromEmpty) {
  ByteArena a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.capacity(), 0u);
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string piece = "field-" + std::to_string(i) + ";";
    put(a, piece);
    expected += piece;
  }
  EXPECT_EQ(contents(a), expected);
  EXPECT_GE(a.capacity(), a.size());
  put(a, "");
  EXPECT_EQ(contents(a), expected);
}

TEST(ByteArena, ClearKeepsTheCapacityAndReserveOnlyGrows) {
  ByteArena a;
  a.reserve(100);
  EXPECT_EQ(a.capacity(), 100u);
  put(a, "abc");
  const char* storage = a.data();
  a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.capacity(), 100u);
  a.reserve(10);
  EXPECT_EQ(a.capacity(), 100u);
  put(a, "xyz");
  EXPECT_EQ(a.data(), storage);
  EXPECT_EQ(contents(a), "xyz");
}

TEST(ByteArena, CopiesAreDeepAndMovesTakeTheStorage) {
  ByteArena a;
  put(a, "hello");
  ByteArena b(a);
  put(b, " world");
  EXPECT_EQ(contents(a), "hello");
  EXPECT_EQ(contents(b), "hello world");
  a = b;
  EXPECT_EQ(contents(a), "hello world");
  EXPECT_NE(a.data(), b.data());
  const ByteArena& same = a;
  a = same;  // self-assignment keeps the bytes
  EXPECT_EQ(contents(a), "hello world");

  const char* storage = b.data();
  ByteArena c(std::move(b));
  EXPECT_EQ(c.data(), storage);
  EXPECT_EQ(contents(c), "hello world");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by design
  ByteArena d;
  put(d, "old");
  d = std::move(c);
  EXPECT_EQ(d.data(), storage);
  EXPECT_EQ(contents(d), "hello world");
}

struct ArenaTag;

TEST(ByteArena, PassesThroughRecycledStorage) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(SLUICE_TSAN_BUILD)
  GTEST_SKIP() << "sanitizer builds bypass the spares";
#endif
  using Spares = RecycledStorage<ArenaTag, ByteArena, 2, 1024>;
  ByteArena first;
  first.reserve(512);
  put(first, "x");
  const char* storage = first.data();
  Spares::give(first);
  EXPECT_TRUE(first.empty());
  EXPECT_EQ(first.capacity(), 0u);
  ByteArena next;
  ASSERT_TRUE(Spares::take(next));
  EXPECT_EQ(next.data(), storage);
  EXPECT_TRUE(next.empty());
  EXPECT_EQ(next.capacity(), 512u);
}

}  // namespace
}  // namespace sluice::util
