// ratelimit config: inline YAML -> reader -> Spec (good, and each error
// with its path), and what a build derives from a Spec.
#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "filters/http/ratelimit/config.h"
#include "filters/http/ratelimit/filter.h"
#include "proxy/stats/named_counters.h"

namespace sluice::filters::global_ratelimit {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const Spec> parse(const std::string& yaml, config::ParseContext& ctx, bool per_route = false) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "ratelimit");
  auto spec = per_route ? reader().readPerRoute(r) : reader().read(r);
  return std::static_pointer_cast<const Spec>(spec);
}

std::shared_ptr<const RuntimeConfig> build(const Spec& spec) {
  return std::static_pointer_cast<const RuntimeConfig>(factory().build(spec));
}

constexpr const char* kGood = R"(
stat_prefix: api
redis: {address: 127.0.0.1:6379, timeout: 20ms}
domain: edge
limit: {requests_per_unit: 4, unit: second, burst: 2}
descriptors: [{key: client_ip}, {key: header, header: X-User}, {key: path}, {key: generic, value: all}]
failure_mode: deny
)";

TEST(RateLimitConfigTest, RegisteredByName) {
  EXPECT_EQ(config::findHttpFilterReader("ratelimit"), &reader());
  EXPECT_EQ(sluice::http::findHttpFilter("ratelimit"), &factory());
}

TEST(RateLimitConfigTest, ParsesEveryField) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse(kGood, ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(cfg->stat_prefix, "api");
  EXPECT_EQ(cfg->redis_address.str(), "127.0.0.1:6379");
  EXPECT_EQ(cfg->redis_timeout, 20ms);
  EXPECT_EQ(cfg->domain, "edge");
  EXPECT_EQ(cfg->requests_per_unit, 4u);
  EXPECT_EQ(cfg->burst, 2u);
  EXPECT_EQ(cfg->failure_mode, Spec::FailureMode::Deny);
  ASSERT_EQ(cfg->descriptors.size(), 4u);
  EXPECT_EQ(cfg->descriptors[1].header, "x-user");
  EXPECT_EQ(cfg->descriptors[3].value, "all");
  EXPECT_EQ(cfg->toJson()["limit"]["unit"], "second");
  EXPECT_EQ(cfg->toJson()["descriptors"][1]["header"], "x-user");
}

// What a build derives from a spec once, so a request formats only its key.
TEST(RateLimitConfigTest, BuildDerivesKeyPartsAndScriptArguments) {
  config::ParseContext ctx("t.yaml");
  auto spec = parse(kGood, ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  auto cfg = build(*spec);
  EXPECT_EQ(cfg->key_prefixes,
            (std::vector<std::string>{"|client_ip=", "|x-user=", "|path=", "|generic="}));
  EXPECT_EQ(cfg->interval_arg, "250000.000");  // 1 s / 4
  EXPECT_EQ(cfg->tolerance_arg, "500000.000");
  EXPECT_EQ(cfg->limit_value, "4");
  ASSERT_TRUE(cfg->ok && cfg->over_limit && cfg->error && cfg->failure_mode_allowed);
}

bool hasSeries(const std::string& stat_prefix) {
  bool found = false;
  stats::forEachNamedCounter([&](const stats::NamedCounterView& c) {
    for (const auto& [k, v] : c.labels) found = found || (k == "stat_prefix" && v == stat_prefix);
  });
  return found;
}

// The counters are runtime state: reading a spec makes none (a config that
// fails validation leaves no series behind); building one does.
TEST(RateLimitConfigTest, CountersAreMadeAtBuildNotAtRead) {
  config::ParseContext ctx("t.yaml");
  auto spec = parse("{stat_prefix: rl_read_vs_build, redis: {address: '127.0.0.1:6379'}, domain: d,"
                    " limit: {requests_per_unit: 3}, descriptors: [{key: path}]}",
                    ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_FALSE(hasSeries("rl_read_vs_build"));
  auto first = build(*spec);
  EXPECT_TRUE(hasSeries("rl_read_vs_build"));
  auto second = build(*spec);
  EXPECT_NE(first, second) << "each build is its own runtime config";
  EXPECT_EQ(first->ok, second->ok) << "a series is one per stat_prefix, across builds (and reloads)";
}

TEST(RateLimitConfigTest, DefaultsAndUnits) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse(
      "{stat_prefix: a, redis: {address: '[::1]:7000'}, domain: d, limit: {requests_per_unit: 3, unit: minute},"
      " descriptors: [{key: path}]}",
      ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(cfg->redis_timeout, 50ms);
  EXPECT_EQ(cfg->failure_mode, Spec::FailureMode::Allow);
  auto built = build(*cfg);
  EXPECT_EQ(built->interval_arg, "20000000.000");
  EXPECT_EQ(built->tolerance_arg, "0.000");
}

TEST(RateLimitConfigTest, EachErrorNamesItsPath) {
  config::ParseContext ctx("t.yaml");
  parse(R"(
stat_prefix: ""
redis: {address: 127.0.0.1, timeout: 0ms, db: 2}
limit: {requests_per_unit: 0, unit: fortnight}
descriptors: [{key: header}, {key: generic}, {key: cookie}, {key: path, header: x}]
failure_mode: maybe
)",
        ctx);
  const std::string text = ctx.str();
  for (const char* want : {"t.yaml:2:", "ratelimit.stat_prefix: must not be empty", "ratelimit.redis.address",
                           "ratelimit.redis.timeout: must be between", "ratelimit.redis: unknown field 'db'",
                           "ratelimit.domain", "ratelimit.limit.requests_per_unit", "ratelimit.limit.unit: expected second",
                           "ratelimit.descriptors[0].header", "ratelimit.descriptors[1].value",
                           "ratelimit.descriptors[2].key: expected client_ip", "ratelimit.descriptors[3]: unknown field 'header'",
                           "ratelimit.failure_mode: expected allow or deny"})
    EXPECT_NE(text.find(want), std::string::npos) << "missing '" << want << "' in:\n" << text;
}

TEST(RateLimitConfigTest, MissingSectionsAndEmptyDescriptors) {
  config::ParseContext ctx("t.yaml");
  parse("{stat_prefix: a, domain: d, descriptors: []}", ctx);
  const std::string text = ctx.str();
  EXPECT_NE(text.find("ratelimit.redis: missing required field"), std::string::npos) << text;
  EXPECT_NE(text.find("ratelimit.limit: missing required field"), std::string::npos) << text;
  EXPECT_NE(text.find("ratelimit.descriptors: needs at least one"), std::string::npos) << text;
}

TEST(RateLimitConfigTest, PerRouteMayOnlyDisable) {
  config::ParseContext ctx("t.yaml");
  auto off = parse("{disabled: true}", ctx, /*per_route=*/true);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_TRUE(off->disabled);
  EXPECT_EQ(off->toJson()["disabled"], true);
  EXPECT_EQ(build(*off)->ok, nullptr) << "a disabled route never counts";
  config::ParseContext extra("t.yaml");
  parse("{disabled: true, domain: d}", extra, /*per_route=*/true);
  EXPECT_NE(extra.str().find("unknown field 'domain'"), std::string::npos) << extra.str();
  config::ParseContext listener("t.yaml");
  parse("{disabled: true}", listener, /*per_route=*/false);
  EXPECT_NE(listener.str().find("unknown field 'disabled'"), std::string::npos) << listener.str();
}

}  // namespace
}  // namespace sluice::filters::global_ratelimit
