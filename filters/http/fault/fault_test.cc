// fault: config parsing, and aborts/delays driven by an injected dice roll.
#include "filters/http/fault/fault.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "tests/unit/http/fake_filter_callbacks.h"

namespace sluice::filters::fault {
namespace {

using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

std::shared_ptr<const FaultConfig> parse(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "fault");
  return std::static_pointer_cast<const FaultConfig>(factory().parse(r));
}

uint32_t rollZero() { return 0; }
uint32_t rollNinetyNine() { return 99; }

TEST(FaultConfigTest, ParsesDelayAndAbort) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse("delay: {fixed_delay: 20ms, percentage: 10}\nabort: {http_status: 503, percentage: 5}", ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(cfg->delay, std::chrono::milliseconds(20));
  EXPECT_EQ(cfg->delay_percentage, 10u);
  EXPECT_EQ(cfg->abort_status, 503u);
  EXPECT_EQ(cfg->abort_percentage, 5u);
  EXPECT_EQ(cfg->toJson()["abort"]["http_status"], 503);
}

TEST(FaultConfigTest, RejectsEmptyOutOfRangeAndUnknown) {
  config::ParseContext empty("t.yaml");
  parse("{}", empty);
  EXPECT_FALSE(empty.ok());
  config::ParseContext bad("t.yaml");
  parse("abort: {http_status: 700, percentage: 101}\ndelai: {}", bad);
  const std::string text = bad.str();
  EXPECT_NE(text.find("fault.abort.http_status"), std::string::npos) << text;
  EXPECT_NE(text.find("fault.abort.percentage"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown field 'delai'"), std::string::npos) << text;
}

TEST(FaultFilterTest, AbortHitAnswersLocallyWithFlag) {
  FaultConfig cfg;
  cfg.abort_status = 503;
  cfg.abort_percentage = 50;
  FaultFilter f(cfg, &rollZero);
  sluice::http::testing::FakeDecoderCallbacks cb;
  f.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(cb.local_status, 503);
  EXPECT_TRUE(cb.streamInfo().hasFlag(ResponseFlag::FaultInjected));
}

TEST(FaultFilterTest, AbortMissPassesThrough) {
  FaultConfig cfg;
  cfg.abort_status = 503;
  cfg.abort_percentage = 50;
  FaultFilter f(cfg, &rollNinetyNine);
  sluice::http::testing::FakeDecoderCallbacks cb;
  f.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::Continue);
  EXPECT_FALSE(cb.local_status.has_value());
}

TEST(FaultFilterTest, DelayHoldsTheRequestThenContinues) {
  FaultConfig cfg;
  cfg.delay = std::chrono::milliseconds(30);
  cfg.delay_percentage = 100;
  FaultFilter f(cfg, &rollZero);
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
  FaultConfig cfg;
  cfg.delay = std::chrono::milliseconds(10);
  cfg.delay_percentage = 100;
  sluice::http::testing::FakeDecoderCallbacks cb;
  {
    FaultFilter f(cfg, &rollZero);
    f.setDecoderFilterCallbacks(cb);
    f.decodeHeaders(cb.request, true);
    f.onDestroy();
  }
  int turns = 0;
  cb.runUntil([&] { return ++turns > 10; });
  EXPECT_EQ(cb.continues, 0);
}

}  // namespace
}  // namespace sluice::filters::fault
