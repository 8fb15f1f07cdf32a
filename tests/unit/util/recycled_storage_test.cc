// Per-thread spare capacity: what a dying container leaves, the next one of
// its kind takes; bounded in count and size; kinds kept apart by tag.
#include "proxy/util/recycled_storage.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace sluice::util {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(SLUICE_TSAN_BUILD)
#define SKIP_UNDER_SANITIZERS() GTEST_SKIP() << "sanitizer builds bypass the spares"
#else
#define SKIP_UNDER_SANITIZERS() (void)0
#endif

struct VecTag;
using Spares = RecycledStorage<VecTag, std::vector<int>, 2, 1024>;

TEST(RecycledStorage, ADyingContainersStorageServesTheNextOne) {
  SKIP_UNDER_SANITIZERS();
  std::vector<int> first;
  first.reserve(64);
  first.push_back(7);
  const int* storage = first.data();
  Spares::give(first);
  EXPECT_TRUE(first.empty());
  EXPECT_EQ(Spares::spares(), 1u);

  std::vector<int> next;
  ASSERT_TRUE(Spares::take(next));
  EXPECT_TRUE(next.empty()) << "a spare comes back empty";
  EXPECT_GE(next.capacity(), 64u);
  EXPECT_EQ(next.data(), storage) << "the same storage, not a new allocation";
  EXPECT_EQ(Spares::spares(), 0u);
  EXPECT_FALSE(Spares::take(next)) << "none left";
}

TEST(RecycledStorage, KeepsAtMostItsCountAndNothingLargeOrEmpty) {
  SKIP_UNDER_SANITIZERS();
  for (int i = 0; i < 4; ++i) {
    std::vector<int> v;
    v.reserve(8);
    Spares::give(v);
  }
  EXPECT_EQ(Spares::spares(), 2u) << "bounded per thread";
  std::vector<int> a, b;
  ASSERT_TRUE(Spares::take(a));
  ASSERT_TRUE(Spares::take(b));

  std::vector<int> large;
  large.reserve(1024);  // 4 KiB of ints: over the 1 KiB bound
  Spares::give(large);
  std::vector<int> never_grown;
  Spares::give(never_grown);
  EXPECT_EQ(Spares::spares(), 0u);
}

TEST(RecycledStorage, TakesOnlyIntoAnEmptyContainer) {
  SKIP_UNDER_SANITIZERS();
  std::vector<int> spare;
  spare.reserve(16);
  Spares::give(spare);
  std::vector<int> holding{1, 2, 3};
  EXPECT_FALSE(Spares::take(holding));
  EXPECT_EQ(holding.size(), 3u) << "its contents are never lost";
  std::vector<int> empty;
  EXPECT_TRUE(Spares::take(empty));
}

TEST(RecycledStorage, AStringsInlineBufferIsNoSpare) {
  struct StrTag;
  using StringSpares = RecycledStorage<StrTag, std::string>;
  std::string small = "short";
  StringSpares::give(small);
  EXPECT_EQ(StringSpares::spares(), 0u);
}

TEST(RecycledStorage, EachThreadHasItsOwnSpares) {
  SKIP_UNDER_SANITIZERS();
  std::vector<int> v;
  v.reserve(32);
  Spares::give(v);
  size_t seen_there = 99;
  std::thread([&] { seen_there = Spares::spares(); }).join();
  EXPECT_EQ(seen_there, 0u);
  std::vector<int> back;
  EXPECT_TRUE(Spares::take(back));
}

// A container that outlives its thread's spares (destroyed later in that
// thread's exit) frees its own storage instead of touching them.
TEST(RecycledStorage, AContainerDyingAfterTheThreadsSparesFreesItsOwn) {
  struct Late {
    ~Late() {
      std::vector<int> v;
      v.reserve(16);
      Spares::give(v);
      EXPECT_FALSE(Spares::take(v));
    }
  };
  std::thread([] {
    // Made before the spares: destroyed after them.
    thread_local Late late;
    (void)&late;
    std::vector<int> v;
    v.reserve(16);
    Spares::give(v);
  }).join();
}

}  // namespace
}  // namespace sluice::util
