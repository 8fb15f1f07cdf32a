// local_ratelimit (HTTP) filter against a fake stream: the token count
// decides between Continue and a 429 local reply, whose response carries the
// x-ratelimit-* headers; shadow mode; route/virtual-host configs over the
// listener's; per-key buckets by header, client IP and path; counters; each
// build of a spec has its own buckets.
#include "filters/http/local_ratelimit/filter.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "tests/unit/http/fake_filter_callbacks.h"

namespace sluice::filters::local_ratelimit {
namespace {

using sluice::http::FilterHeadersStatus;
using sluice::http::HeaderMap;
using sluice::http::ResponseFlag;
using sluice::http::testing::FakeDecoderCallbacks;

std::shared_ptr<const Spec> read(const std::string& yaml) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "local_ratelimit");
  auto spec = std::static_pointer_cast<const Spec>(reader().read(r));
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return spec;
}

std::shared_ptr<const RuntimeConfig> build(const Spec& spec) {
  return std::static_pointer_cast<const RuntimeConfig>(factory().build(spec));
}

// Read, then built as a snapshot (or route table) would.
std::shared_ptr<const RuntimeConfig> make(const std::string& yaml) { return build(*read(yaml)); }

struct Outcome {
  FilterHeadersStatus decode = FilterHeadersStatus::Continue;
  std::optional<int> local_status;
  HeaderMap response;  // as the client would get it
  std::string header(std::string_view name) const { return std::string(response.get(name).value_or("<none>")); }
};

// One request through a fresh filter; a 429 local reply (or else a 200 from
// "upstream") then runs through the filter's encodeHeaders, as the stream does.
Outcome send(const RuntimeConfig& listener, FakeDecoderCallbacks& cb) {
  cb.local_status.reset();
  LocalRateLimitFilter f(listener);
  f.setDecoderFilterCallbacks(cb);
  Outcome o;
  o.decode = f.decodeHeaders(cb.request, true);
  o.local_status = cb.local_status;
  o.response.setStatus(cb.local_status.value_or(200));
  f.encodeHeaders(o.response, true);
  return o;
}

int64_t value(const std::shared_ptr<stats::NamedCounter>& c) { return c->value(); }

TEST(LocalRateLimitFilterTest, AllowsTheBucketThenAnswers429WithHeaders) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_basic, token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 2500ms}}");
  for (int i = 0; i < 3; ++i) {
    Outcome o = send(*cfg, cb);
    EXPECT_EQ(o.decode, FilterHeadersStatus::Continue) << i;
    EXPECT_FALSE(o.local_status) << i;
    EXPECT_FALSE(o.response.has("x-ratelimit-limit")) << "response_headers is off";
  }
  EXPECT_FALSE(cb.streamInfo().hasFlag(ResponseFlag::RateLimited));
  Outcome o = send(*cfg, cb);
  EXPECT_EQ(o.decode, FilterHeadersStatus::StopIteration);
  ASSERT_EQ(o.local_status, 429);
  EXPECT_EQ(cb.local_body, "local_rate_limited\n");
  EXPECT_TRUE(cb.streamInfo().hasFlag(ResponseFlag::RateLimited));
  EXPECT_EQ(cb.streamInfo().details, "local_rate_limited");
  EXPECT_EQ(o.header("x-ratelimit-limit"), "3");
  EXPECT_EQ(o.header("x-ratelimit-remaining"), "0");
  EXPECT_EQ(o.header("x-ratelimit-reset"), "3");  // 2.5 s to the next fill, rounded up
  EXPECT_EQ(o.header("retry-after"), "3");
  EXPECT_EQ(value(cfg->ok), 3);
  EXPECT_EQ(value(cfg->limited), 1);
  EXPECT_EQ(value(cfg->shadow_limited), 0);
}

TEST(LocalRateLimitFilterTest, ResponseHeadersOnAllowedResponses) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_rh, response_headers: true, "
                  "token_bucket: {max_tokens: 2, tokens_per_fill: 1, fill_interval: 100ms}}");
  Outcome o = send(*cfg, cb);
  EXPECT_FALSE(o.local_status);
  EXPECT_EQ(o.header("x-ratelimit-limit"), "2");
  EXPECT_EQ(o.header("x-ratelimit-remaining"), "1");
  EXPECT_EQ(o.header("x-ratelimit-reset"), "1");
  EXPECT_FALSE(o.response.has("retry-after")) << "retry-after only on a 429";
  o = send(*cfg, cb);
  EXPECT_EQ(o.header("x-ratelimit-remaining"), "0");
  o = send(*cfg, cb);
  EXPECT_EQ(o.local_status, 429);
  EXPECT_EQ(o.header("retry-after"), "1") << "a sub-second wait still says 1";
}

TEST(LocalRateLimitFilterTest, ShadowCountsButLetsEverythingThrough) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_shadow, shadow: true, "
                  "token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1s}}");
  for (int i = 0; i < 5; ++i) {
    Outcome o = send(*cfg, cb);
    EXPECT_EQ(o.decode, FilterHeadersStatus::Continue);
    EXPECT_FALSE(o.local_status);
    EXPECT_FALSE(o.response.has("retry-after"));
  }
  EXPECT_FALSE(cb.streamInfo().hasFlag(ResponseFlag::RateLimited));
  EXPECT_EQ(value(cfg->ok), 2);
  EXPECT_EQ(value(cfg->shadow_limited), 3);
  EXPECT_EQ(value(cfg->limited), 0);
}

TEST(LocalRateLimitFilterTest, RouteConfigOverridesTheListener) {
  FakeDecoderCallbacks cb;
  auto listener = make("{stat_prefix: ft_listener}");
  auto route = make("{stat_prefix: ft_route, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1s}}");
  // No bucket at the listener and no route config: nothing is limited or counted.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(send(*listener, cb).local_status);
  EXPECT_EQ(listener->ok, nullptr) << "a config without a bucket has no counters";
  // The route's config applies, and its one bucket is shared by every request there.
  cb.per_filter_config = route.get();
  EXPECT_FALSE(send(*listener, cb).local_status);
  EXPECT_FALSE(send(*listener, cb).local_status);
  Outcome o = send(*listener, cb);
  EXPECT_EQ(o.local_status, 429);
  EXPECT_EQ(o.header("x-ratelimit-limit"), "2");
  EXPECT_EQ(value(route->ok), 2);
  EXPECT_EQ(value(route->limited), 1);
  EXPECT_EQ(listener->limited, nullptr);
  // A route config without a bucket turns limiting off there.
  auto off = make("{stat_prefix: ft_off}");
  cb.per_filter_config = off.get();
  EXPECT_FALSE(send(*listener, cb).local_status);
}

TEST(LocalRateLimitFilterTest, PerKeyByHeader) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_hdr, per_key: {source: header, header: X-User}, "
                  "token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1s}}");
  auto as = [&](const char* user) {
    cb.request.clear();
    cb.request.add(":path", "/");
    if (user != nullptr) cb.request.add("x-user", user);
    return send(*cfg, cb).local_status.value_or(200);
  };
  EXPECT_EQ(as("alice"), 200);
  EXPECT_EQ(as("alice"), 200);
  EXPECT_EQ(as("alice"), 429);
  EXPECT_EQ(as("bob"), 200) << "bob has his own bucket";
  EXPECT_EQ(as("bob"), 200);
  EXPECT_EQ(as("bob"), 429);
  // Requests without the header share one bucket.
  EXPECT_EQ(as(nullptr), 200);
  EXPECT_EQ(as(nullptr), 200);
  EXPECT_EQ(as(nullptr), 429);
  EXPECT_EQ(value(cfg->key_table_full), 0);
}

TEST(LocalRateLimitFilterTest, PerKeyByClientIpIgnoresThePort) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_ip, per_key: {source: client_ip}, "
                  "token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}}");
  auto from = [&](const char* addr) {
    cb.streamInfo().downstream_address = *ip::Address::parse(addr);
    return send(*cfg, cb).local_status.value_or(200);
  };
  EXPECT_EQ(from("10.0.0.1:1000"), 200);
  EXPECT_EQ(from("10.0.0.1:2000"), 429);
  EXPECT_EQ(from("10.0.0.2:1000"), 200);
  EXPECT_EQ(from("[::1]:1000"), 200);
  EXPECT_EQ(from("[::1]:1001"), 429);
}

TEST(LocalRateLimitFilterTest, PerKeyByPathIgnoresTheQuery) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_path, per_key: {source: path}, "
                  "token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}}");
  auto get = [&](const char* path) {
    cb.request.clear();
    cb.request.add(":path", path);
    return send(*cfg, cb).local_status.value_or(200);
  };
  EXPECT_EQ(get("/a?x=1"), 200);
  EXPECT_EQ(get("/a?x=2"), 429);
  EXPECT_EQ(get("/b"), 200);
}

TEST(LocalRateLimitFilterTest, KeyTableFullIsCounted) {
  FakeDecoderCallbacks cb;
  auto cfg = make("{stat_prefix: ft_full, per_key: {source: header, header: k, max_keys: 8}, "
                  "token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 1s}}");
  for (int i = 0; i < 12; ++i) {
    cb.request.clear();
    cb.request.add("k", std::to_string(i));
    EXPECT_FALSE(send(*cfg, cb).local_status);
  }
  EXPECT_EQ(value(cfg->key_table_full), 4);
  EXPECT_EQ(value(cfg->ok), 12);
}

// The buckets are made when a spec is built, not when it is read: two builds
// of one spec (two snapshots, or two routes) do not share a budget.
TEST(LocalRateLimitFilterTest, EachBuildHasItsOwnBucket) {
  FakeDecoderCallbacks cb;
  auto spec = read("{stat_prefix: ft_builds, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1h}}");
  auto first = build(*spec);
  auto second = build(*spec);
  EXPECT_FALSE(send(*first, cb).local_status);
  EXPECT_FALSE(send(*first, cb).local_status);
  EXPECT_EQ(send(*first, cb).local_status, 429);
  EXPECT_FALSE(send(*second, cb).local_status) << "the second build starts full";
  EXPECT_FALSE(send(*second, cb).local_status);
  EXPECT_EQ(send(*second, cb).local_status, 429);
}

}  // namespace
}  // namespace sluice::filters::local_ratelimit
