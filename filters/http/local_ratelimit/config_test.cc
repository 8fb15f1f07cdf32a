// local_ratelimit (HTTP) config: inline YAML -> reader -> Spec or errors
// that name file:line:col and the field path, at the listener and in
// per_filter_config; what a build makes of a Spec.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/yaml_reader.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/local_ratelimit/filter.h"
#include "filters/network/http/config.h"
#include "proxy/http/route_config.h"

namespace sluice::filters::local_ratelimit {
namespace {

using KeySource = config::LocalLimitSpec::KeySource;

std::shared_ptr<const Spec> parse(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "local_ratelimit");
  return std::static_pointer_cast<const Spec>(reader().read(r));
}

std::shared_ptr<const RuntimeConfig> build(const Spec& spec) {
  return std::static_pointer_cast<const RuntimeConfig>(factory().build(spec));
}

TEST(LocalRateLimitConfigTest, RegisteredByName) {
  EXPECT_EQ(config::findHttpFilterReader("local_ratelimit"), &reader());
  EXPECT_EQ(sluice::http::findHttpFilter("local_ratelimit"), &factory());
}

TEST(LocalRateLimitConfigTest, ParsesEverything) {
  config::ParseContext ctx("t.yaml");
  auto spec = parse(R"(
stat_prefix: edge
token_bucket: {max_tokens: 10, tokens_per_fill: 5, fill_interval: 250ms}
per_key: {source: header, header: X-User, max_keys: 100}
shadow: true
response_headers: true
)",
                    ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(spec->stat_prefix, "edge");
  EXPECT_TRUE(spec->shadow);
  EXPECT_TRUE(spec->response_headers);
  const auto& limit = spec->limit;
  ASSERT_TRUE(limit.token_bucket);
  EXPECT_EQ(limit.token_bucket->max_tokens, 10u);
  EXPECT_EQ(limit.token_bucket->tokens_per_fill, 5u);
  EXPECT_EQ(limit.token_bucket->fill_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(limit.key_source, KeySource::Header);
  EXPECT_EQ(limit.key_header, "x-user");
  EXPECT_EQ(limit.max_keys, 100u);
  const auto j = spec->toJson();
  EXPECT_EQ(j["token_bucket"]["fill_interval"], "250ms");
  EXPECT_EQ(j["per_key"]["source"], "header");
  EXPECT_EQ(j["per_key"]["header"], "x-user");

  auto cfg = build(*spec);
  ASSERT_TRUE(cfg->limiter.enabled());
  EXPECT_TRUE(cfg->limiter.keyed());
  EXPECT_EQ(cfg->limit_value, "10");
  ASSERT_TRUE(cfg->ok && cfg->limited && cfg->shadow_limited && cfg->key_table_full);
}

TEST(LocalRateLimitConfigTest, DefaultsAndNoBucket) {
  config::ParseContext ctx("t.yaml");
  auto spec = parse("stat_prefix: edge", ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_FALSE(spec->limit.token_bucket);
  EXPECT_FALSE(spec->shadow);
  EXPECT_FALSE(spec->response_headers);
  EXPECT_FALSE(spec->toJson().contains("token_bucket"));
  auto cfg = build(*spec);
  EXPECT_FALSE(cfg->limiter.enabled()) << "no token_bucket: the filter only applies where a route sets one";
  EXPECT_EQ(cfg->ok, nullptr) << "no bucket, no series";

  config::ParseContext ip("t.yaml");
  spec = parse("{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1ms}, "
               "per_key: {source: client_ip}}",
               ip);
  ASSERT_TRUE(ip.ok()) << ip.str();
  EXPECT_EQ(spec->limit.key_source, KeySource::ClientIp);
  EXPECT_EQ(spec->limit.max_keys, 10000u);
  cfg = build(*spec);
  EXPECT_TRUE(cfg->ok && cfg->key_table_full);
}

// Each bad value is reported with its full path.
TEST(LocalRateLimitConfigTest, ErrorsNameTheirPath) {
  struct Case {
    const char* yaml;
    const char* path;
    const char* message;
  };
  const Case cases[] = {
      {"token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}", "local_ratelimit.stat_prefix",
       "missing required field"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 0, tokens_per_fill: 1, fill_interval: 1s}}",
       "local_ratelimit.token_bucket.max_tokens", "between 1 and 16777215"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 16777216, tokens_per_fill: 1, fill_interval: 1s}}",
       "local_ratelimit.token_bucket.max_tokens", "between 1 and 16777215"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 0, fill_interval: 1s}}",
       "local_ratelimit.token_bucket.tokens_per_fill", "between 1"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 0}}",
       "local_ratelimit.token_bucket.fill_interval", "at least 1ms"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: soon}}",
       "local_ratelimit.token_bucket.fill_interval", "expected a duration"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1}}",
       "local_ratelimit.token_bucket.fill_interval", "missing required field"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s, burst: 2}}",
       "local_ratelimit.token_bucket", "unknown field 'burst'"},
      {"{stat_prefix: e, token_bucket: 5}", "local_ratelimit.token_bucket", "expected a mapping"},
      {"{stat_prefix: e, per_key: {source: path}}", "local_ratelimit.per_key", "needs a token_bucket"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}, per_key: {source: "
       "cookie}}",
       "local_ratelimit.per_key.source", "expected client_ip, path or header"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}, per_key: {source: "
       "header}}",
       "local_ratelimit.per_key.header", "missing required field"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}, per_key: {source: "
       "path, header: x}}",
       "local_ratelimit.per_key.header", "only with source: header"},
      {"{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}, per_key: {source: "
       "path, max_keys: 0}}",
       "local_ratelimit.per_key.max_keys", "between 1 and 1048576"},
      {"{stat_prefix: e, shadow: maybe}", "local_ratelimit.shadow", ""},
      {"{stat_prefix: e, shadow_mode: true}", "local_ratelimit", "unknown field 'shadow_mode'"},
  };
  for (const auto& c : cases) {
    config::ParseContext ctx("t.yaml");
    parse(c.yaml, ctx);
    ASSERT_FALSE(ctx.ok()) << c.yaml;
    const std::string text = ctx.str();
    EXPECT_NE(text.find(std::string("t.yaml:1:")), std::string::npos) << text;
    EXPECT_NE(text.find(std::string(c.path) + ": "), std::string::npos) << c.yaml << "\n" << text;
    EXPECT_NE(text.find(c.message), std::string::npos) << c.yaml << "\n" << text;
  }
}

std::string listenerYaml(const std::string& route_extra) {
  return R"(listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      http_filters:
        - local_ratelimit: {stat_prefix: edge}
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            per_filter_config:
              local_ratelimit: {stat_prefix: vh, token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 1s}}
            routes:
              - match: {prefix: /limited}
                route: {cluster: c}
)" + route_extra +
         R"(              - match: {prefix: /}
                route: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)";
}

// What a route or virtual host holds for this filter: the Spec its readPerRoute read.
const Spec* perFilterSpec(const config::PerFilterConfigs& list) {
  for (const auto& p : list)
    if (p.name == kFilterName) return dynamic_cast<const Spec*>(p.spec.get());
  return nullptr;
}

TEST(LocalRateLimitConfigTest, PerFilterConfigOnRoutesAndVirtualHosts) {
  auto r = config::loadString(
      listenerYaml("                per_filter_config:\n"
                   "                  local_ratelimit: {stat_prefix: r, token_bucket: {max_tokens: 10, "
                   "tokens_per_fill: 10, fill_interval: 1s}}\n"),
      "t.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errorText();
  const auto& http = dynamic_cast<const http_cm::Spec&>(*r.config->listeners[0].filters[0].spec);
  const auto* table = r.config->findRouteConfig(http.route_config_name);
  ASSERT_TRUE(table) << http.route_config_name;
  const auto& vh = table->spec->virtual_hosts[0];
  const auto* vspec = perFilterSpec(vh.per_filter_config);
  const auto* rspec = perFilterSpec(vh.routes[0].per_filter_config);
  ASSERT_TRUE(vspec && rspec);
  EXPECT_EQ(vspec->limit.token_bucket->max_tokens, 5u);
  EXPECT_EQ(rspec->limit.token_bucket->max_tokens, 10u);
  EXPECT_EQ(rspec->stat_prefix, "r");
}

TEST(LocalRateLimitConfigTest, PerFilterConfigErrorsNameTheRoutePath) {
  const std::string yaml = listenerYaml(
      "                per_filter_config:\n"
      "                  local_ratelimit: {stat_prefix: r, token_bucket: {max_tokens: 10, "
      "tokens_per_fill: 10, fill_interval: 0ms}}\n");
  auto r = config::loadString(yaml, "t.yaml");
  const std::string text = r.errorText();
  EXPECT_NE(text.find("t.yaml:17:"), std::string::npos) << text;
  EXPECT_NE(text.find("listeners[0].http.route_config.virtual_hosts[0].routes[0].per_filter_config.local_ratelimit."
                      "token_bucket.fill_interval: must be at least 1ms"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace sluice::filters::local_ratelimit
