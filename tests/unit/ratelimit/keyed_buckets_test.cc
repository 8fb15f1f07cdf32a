// KeyedBuckets on simulated time: keys get independent buckets, a full
// bucket's slot is taken over by a new key when the table is full, and with
// no slot to be had the overflow bucket answers and says so.
#include "proxy/ratelimit/keyed_buckets.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "proxy/util/hash.h"
#include "tests/unit/ratelimit/bucket_test_support.h"

namespace sluice::ratelimit {
namespace {

using std::chrono::milliseconds;

using bucket_test::kStart;
using bucket_test::params;

uint64_t key(int i) { return util::hash64("client-" + std::to_string(i)); }

TEST(KeyedBucketsTest, CapacityIsMaxKeysRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(KeyedBuckets(params(1, 1, 1000), kStart).capacity(), 16384u);
  EXPECT_EQ(KeyedBuckets(params(1, 1, 1000), kStart, 8).capacity(), 8u);
  EXPECT_EQ(KeyedBuckets(params(1, 1, 1000), kStart, 9).capacity(), 16u);
  EXPECT_EQ(KeyedBuckets(params(1, 1, 1000), kStart, 1).capacity(), 1u);
}

TEST(KeyedBucketsTest, DistinctKeysHaveIndependentBuckets) {
  KeyedBuckets t(params(3, 3, 1000), kStart, 64);
  bool full = true;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.tryTake(key(1), kStart, &full).allowed);
  EXPECT_FALSE(full);
  EXPECT_FALSE(t.tryTake(key(1), kStart, &full).allowed) << "key 1 over its budget";
  for (int k = 2; k < 20; ++k) {
    for (int i = 0; i < 3; ++i) {
      auto r = t.tryTake(key(k), kStart, &full);
      EXPECT_TRUE(r.allowed) << "key " << k;
      EXPECT_EQ(r.remaining, static_cast<uint32_t>(2 - i));
    }
    EXPECT_FALSE(t.tryTake(key(k), kStart, &full).allowed) << "key " << k;
    EXPECT_FALSE(full);
  }
  // Each refills on its own.
  EXPECT_TRUE(t.tryTake(key(1), kStart + milliseconds(1000), &full).allowed);
}

TEST(KeyedBucketsTest, ZeroHashIsAKeyLikeAnyOther) {
  KeyedBuckets t(params(1, 1, 1000), kStart, 8);
  bool full = true;
  EXPECT_TRUE(t.tryTake(0, kStart, &full).allowed);
  EXPECT_FALSE(full);
  EXPECT_FALSE(t.tryTake(0, kStart, &full).allowed);
}

TEST(KeyedBucketsTest, OverflowWhenEveryProbedSlotIsBusy) {
  // 8 slots, 8 probes: every key's probe sequence is the whole table.
  KeyedBuckets t(params(2, 2, 1000), kStart, 8);
  bool full = false;
  for (int k = 0; k < 8; ++k) {
    ASSERT_TRUE(t.tryTake(key(k), kStart, &full).allowed);  // not full any more: not evictable
    ASSERT_FALSE(full) << "key " << k;
  }
  // A ninth key finds no slot: the shared overflow bucket answers.
  auto r = t.tryTake(key(100), kStart, &full);
  EXPECT_TRUE(full);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(t.tryTake(key(101), kStart, &full).allowed);
  EXPECT_TRUE(full);
  EXPECT_FALSE(t.tryTake(key(102), kStart, &full).allowed) << "the overflow bucket is one bucket for all";
  EXPECT_TRUE(full);
  // The keys that hold slots still have theirs.
  for (int k = 0; k < 8; ++k) {
    EXPECT_TRUE(t.tryTake(key(k), kStart, &full).allowed);
    EXPECT_FALSE(full);
  }
}

TEST(KeyedBucketsTest, FullBucketsAreEvictedForNewKeys) {
  KeyedBuckets t(params(2, 2, 1000), kStart, 8);
  bool full = false;
  for (int k = 0; k < 8; ++k) ASSERT_TRUE(t.tryTake(key(k), kStart, &full).allowed);
  ASSERT_TRUE(t.tryTake(key(100), kStart, &full).allowed);
  ASSERT_TRUE(full);
  // One interval later every bucket is full again: a new key takes one over
  // and gets a whole fresh budget.
  const auto later = kStart + milliseconds(1000);
  auto r = t.tryTake(key(100), later, &full);
  EXPECT_FALSE(full);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.remaining, 1u);
  EXPECT_TRUE(t.tryTake(key(100), later, &full).allowed);
  EXPECT_FALSE(t.tryTake(key(100), later, &full).allowed) << "the taken-over slot is key 100's own now";
  EXPECT_FALSE(full);
  // The evicted key comes back with a fresh bucket (its own was full:
  // nothing lost) by taking over another full slot, whose key does the same
  // in turn; only the last one of that chain finds every slot busy.
  int overflowed = 0;
  for (int k = 0; k < 8; ++k) {
    r = t.tryTake(key(k), later, &full);
    EXPECT_TRUE(r.allowed) << "key " << k;
    if (full) {
      ++overflowed;
    } else {
      EXPECT_EQ(r.remaining, 1u) << "key " << k << " did not get a whole budget";
    }
  }
  EXPECT_LE(overflowed, 1);
}

TEST(KeyedBucketsTest, ExactPerKeyUnderConcurrentTakers) {
  constexpr int kThreads = 4;
  constexpr int kKeys = 50;
  constexpr uint32_t kMax = 40;
  KeyedBuckets t(params(kMax, 1, 1000), kStart, 1024);
  std::vector<std::atomic<int>> ok(kKeys);
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 200 * kKeys; ++i) {
        const int k = (i + th * 7) % kKeys;
        bool full = false;
        if (t.tryTake(key(k), kStart, &full).allowed) ok[k]++;
        EXPECT_FALSE(full);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(ok[k].load(), static_cast<int>(kMax)) << "key " << k;
}

}  // namespace
}  // namespace sluice::ratelimit
