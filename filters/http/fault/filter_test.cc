// fault: aborts and delays driven by an injected dice roll.
#include "filters/http/fault/filter.h"

#include <gtest/gtest.h>

#include "tests/unit/http/fake_filter_callbacks.h"

namespace sluice::filters::fault {
namespace {

using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

uint32_t rollZero() { return 0; }
uint32_t rollNinetyNine() { return 99; }

TEST(FaultFilterTest, AbortHitAnswersLocallyWithFlag) {
  Spec spec;
  spec.abort_status = 503;
  spec.abort_percentage = 50;
  FaultFilter f(spec, &rollZero);
  sluice::http::testing::FakeDecoderCallbacks cb;
  f.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(cb.local_status, 503);
  EXPECT_TRUE(cb.streamInfo().hasFlag(ResponseFlag::FaultInjected));
}

TEST(FaultFilterTest, AbortMissPassesThrough) {
  Spec spec;
  spec.abort_status = 503;
  spec.abort_percentage = 50;
  FaultFilter f(spec, &rollNinetyNine);
  sluice::http::testing::FakeDecoderCallbacks cb;
  f.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::Continue);
  EXPECT_FALSE(cb.local_status.has_value());
}

TEST(FaultFilterTest, DelayHoldsTheRequestThenContinues) {
  Spec spec;
  spec.delay = std::chrono::milliseconds(30);
  spec.delay_percentage = 100;
  FaultFilter f(spec, &rollZero);
  sluice::http::testing::FakeDecoderCallbacks cb;
  f.setDecoderFilterCallbacks(cb);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(cb.continues, 0);
  ASSERT_TRUE(cb.runUntil([&] { return cb.continues == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
  EXPECT_TRUE(cb.streamInfo().hasFlag(ResponseFlag::DelayInjected));
}

TEST(FaultFilterTest, DestroyCancelsAPendingDelay) {
  Spec spec;
  spec.delay = std::chrono::milliseconds(10);
  spec.delay_percentage = 100;
  sluice::http::testing::FakeDecoderCallbacks cb;
  {
    FaultFilter f(spec, &rollZero);
    f.setDecoderFilterCallbacks(cb);
    f.decodeHeaders(cb.request, true);
    f.onDestroy();
  }
  int turns = 0;
  cb.runUntil([&] { return ++turns > 10; });
  EXPECT_EQ(cb.continues, 0);
}

// A route's fault replaces the listener's (here: inert) for its requests.
TEST(FaultFilterTest, ARoutesFaultReplacesTheListeners) {
  Spec listener;  // fault: {}
  Spec route_spec;
  route_spec.abort_status = 418;
  route_spec.abort_percentage = 100;
  const RuntimeConfig route(route_spec);
  sluice::http::testing::FakeDecoderCallbacks cb;
  FaultFilter plain(listener, &rollZero);
  plain.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(plain.decodeHeaders(cb.request, true), FilterHeadersStatus::Continue);
  EXPECT_FALSE(cb.local_status.has_value());

  cb.per_filter_config = &route;
  FaultFilter routed(listener, &rollZero);
  routed.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(routed.decodeHeaders(cb.request, true), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(cb.local_status, 418);
}

TEST(FaultFilterTest, RegisteredByName) {
  EXPECT_EQ(sluice::http::findHttpFilter("fault"), &factory());
  Spec spec;
  spec.abort_status = 503;
  EXPECT_NE(factory().build(spec), nullptr);
}

}  // namespace
}  // namespace sluice::filters::fault
