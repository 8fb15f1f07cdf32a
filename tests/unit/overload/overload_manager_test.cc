// The overload manager's decision: thresholds, hysteresis, several triggers
// for one action; and a manager on a real loop sampling fake resources.
#include "proxy/overload/overload_manager.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::overload {
namespace {

using config::OverloadAction;
using config::OverloadResource;
using config::OverloadSpec;
using config::OverloadTrigger;
using Pressures = OverloadManager::Pressures;

constexpr size_t kConns = static_cast<size_t>(OverloadResource::DownstreamConnections);
constexpr size_t kHeap = static_cast<size_t>(OverloadResource::HeapBytes);
const uint32_t kStop = OverloadState::bit(OverloadAction::StopAccepting);
const uint32_t kShed = OverloadState::bit(OverloadAction::ShedRequests);

OverloadSpec spec(std::vector<OverloadTrigger> triggers) {
  OverloadSpec s;
  s.max = {100, 1000};
  s.triggers = std::move(triggers);
  return s;
}

TEST(OverloadManagerTest, TurnsOnAtThresholdAndOffBelowRelease) {
  const auto s = spec({{OverloadAction::StopAccepting, OverloadResource::DownstreamConnections, 0.8, 0.6}});
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.79, 0}, 0), 0u);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.8, 0}, 0), kStop);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{1.5, 0}, 0), kStop);
  // Between release_at and at: keeps what it was.
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.7, 0}, kStop), kStop);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.7, 0}, 0), 0u);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.6, 0}, kStop), 0u);
  // Another resource's pressure does not count.
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0, 1.0}, 0), 0u);
}

TEST(OverloadManagerTest, AnyTriggerHoldsAnAction) {
  const auto s = spec({{OverloadAction::ShedRequests, OverloadResource::DownstreamConnections, 0.9, 0.8},
                       {OverloadAction::ShedRequests, OverloadResource::HeapBytes, 0.5, 0.4},
                       {OverloadAction::StopAccepting, OverloadResource::HeapBytes, 0.95, 0.9}});
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0, 0.5}, 0), kShed);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.95, 0}, 0), kShed);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.85, 0.1}, kShed), kShed);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0.5, 0.1}, kShed), 0u);
  EXPECT_EQ(OverloadManager::evaluate(s, Pressures{0, 0.96}, 0), kShed | kStop);
}

TEST(OverloadManagerTest, SamplesPublishesAndReportsChanges) {
  event::Loop loop;
  uint64_t conns = 0;
  OverloadManager::Samplers samplers;
  samplers[kConns] = [&] { return conns; };
  int heap_samples = 0;
  samplers[kHeap] = [&] {
    ++heap_samples;
    return uint64_t{0};
  };
  std::vector<std::pair<uint32_t, uint32_t>> changes;
  OverloadManager m(loop, samplers, [&](uint32_t before, uint32_t after) { changes.emplace_back(before, after); });
  OverloadSpec s;
  s.max[kConns] = 10;
  s.triggers = {{OverloadAction::StopAccepting, OverloadResource::DownstreamConnections, 1.0, 0.5}};
  conns = 10;
  m.configure(s);  // samples at once
  EXPECT_TRUE(m.state().active(OverloadAction::StopAccepting));
  EXPECT_FALSE(m.state().active(OverloadAction::ShedRequests));
  EXPECT_EQ(heap_samples, 0) << "an unwatched resource is never sampled";
  ASSERT_EQ(m.resources().size(), 1u);
  EXPECT_EQ(m.resources()[0].used, 10u);
  EXPECT_DOUBLE_EQ(m.resources()[0].pressure, 1.0);
  EXPECT_EQ(m.activations(OverloadAction::StopAccepting), 1u);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], std::make_pair(0u, kStop));

  // A reload that raises the limit releases it at once.
  s.max[kConns] = 100;
  m.configure(s);
  EXPECT_FALSE(m.state().active(OverloadAction::StopAccepting));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1], std::make_pair(kStop, 0u));
  // And removing every action clears the state and the resources.
  m.configure(OverloadSpec{});
  EXPECT_EQ(m.state().bits(), 0u);
  EXPECT_TRUE(m.resources().empty());
}

}  // namespace
}  // namespace sluice::overload
