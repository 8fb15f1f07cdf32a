#include "proxy/util/random.h"

#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <thread>
#include <vector>

namespace sluice::util {
namespace {

TEST(ThreadRandom, DrawsDoNotRepeatAndEveryBitVaries) {
  std::set<uint64_t> seen;
  std::vector<int> ones(64, 0);
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = threadRandom();
    seen.insert(v);
    for (int b = 0; b < 64; ++b) ones[b] += static_cast<int>((v >> b) & 1);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kDraws));
  // Each bit is set about half the time (5 sigma is about 350 here).
  for (int b = 0; b < 64; ++b) EXPECT_NEAR(ones[b], kDraws / 2, 400) << "bit " << b;
}

TEST(ThreadRandom, EachThreadHasItsOwnSequence) {
  std::vector<uint64_t> firsts(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < firsts.size(); ++i) threads.emplace_back([&firsts, i] { firsts[i] = threadRandom(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<uint64_t>(firsts.begin(), firsts.end()).size(), firsts.size());
}

TEST(ThreadRandom, BelowStaysInItsBoundAndCoversIt) {
  RandomSource& r = threadRandomSource();
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = r.below(10);
    ASSERT_LT(v, 10u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 1000, 200);
  EXPECT_EQ(r.below(0), 0u);
  for (int i = 0; i < 1000; ++i) {
    const double u = r.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace sluice::util
