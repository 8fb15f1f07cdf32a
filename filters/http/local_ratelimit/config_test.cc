// local_ratelimit (HTTP) config: inline YAML -> factory -> config or errors
// that name file:line:col and the field path, at the listener and in
// per_filter_config.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/yaml_reader.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/network/http/config.h"
#include "proxy/http/route_config.h"

namespace sluice::filters::local_ratelimit {
namespace {

std::shared_ptr<const LocalRateLimitConfig> parse(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "local_ratelimit");
  return std::static_pointer_cast<const LocalRateLimitConfig>(factory().parse(r));
}

TEST(LocalRateLimitConfigTest, RegisteredByName) {
  EXPECT_EQ(config::findHttpFilterReader("local_ratelimit")->name(), factory().name());
}

TEST(LocalRateLimitConfigTest, ParsesEverything) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse(R"(
stat_prefix: edge
token_bucket: {max_tokens: 10, tokens_per_fill: 5, fill_interval: 250ms}
per_key: {source: header, header: X-User, max_keys: 100}
shadow: true
response_headers: true
)",
                   ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(cfg->stat_prefix, "edge");
  EXPECT_TRUE(cfg->shadow);
  EXPECT_TRUE(cfg->response_headers);
  ASSERT_TRUE(cfg->limiter.enabled());
  EXPECT_TRUE(cfg->limiter.keyed());
  const auto& spec = cfg->limiter.spec();
  EXPECT_EQ(spec.token_bucket->max_tokens, 10u);
  EXPECT_EQ(spec.token_bucket->tokens_per_fill, 5u);
  EXPECT_EQ(spec.token_bucket->fill_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(spec.key_source, sluice::ratelimit::KeySource::Header);
  EXPECT_EQ(spec.key_header, "x-user");
  EXPECT_EQ(spec.max_keys, 100u);
  EXPECT_EQ(cfg->limit_value, "10");
  const auto j = cfg->toJson();
  EXPECT_EQ(j["token_bucket"]["fill_interval"], "250ms");
  EXPECT_EQ(j["per_key"]["source"], "header");
  EXPECT_EQ(j["per_key"]["header"], "x-user");
  ASSERT_TRUE(cfg->ok && cfg->limited && cfg->shadow_limited && cfg->key_table_full);
}

TEST(LocalRateLimitConfigTest, DefaultsAndNoBucket) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse("stat_prefix: edge", ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_FALSE(cfg->limiter.enabled()) << "no token_bucket: the filter only applies where a route sets one";
  EXPECT_FALSE(cfg->shadow);
  EXPECT_FALSE(cfg->response_headers);
  EXPECT_FALSE(cfg->toJson().contains("token_bucket"));
  EXPECT_EQ(cfg->ok, nullptr) << "no bucket, no series";

  config::ParseContext ip("t.yaml");
  cfg = parse("{stat_prefix: e, token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1ms}, "
              "per_key: {source: client_ip}}",
              ip);
  ASSERT_TRUE(ip.ok()) << ip.str();
  EXPECT_EQ(cfg->limiter.spec().key_source, sluice::ratelimit::KeySource::ClientIp);
  EXPECT_EQ(cfg->limiter.spec().max_keys, 10000u);
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
  const auto built = sluice::http::RouteConfig::build(*table->spec);
  const auto& vh = built->virtual_hosts[0];
  const auto* vcfg =
      static_cast<const LocalRateLimitConfig*>(sluice::http::findPerFilterConfig(vh.per_filter_config, kFilterName));
  const auto* rcfg = static_cast<const LocalRateLimitConfig*>(
      sluice::http::findPerFilterConfig(vh.routes[0].per_filter_config, kFilterName));
  ASSERT_TRUE(vcfg && rcfg);
  EXPECT_EQ(vcfg->limiter.spec().token_bucket->max_tokens, 5u);
  EXPECT_EQ(rcfg->limiter.spec().token_bucket->max_tokens, 10u);
  EXPECT_EQ(rcfg->stat_prefix, "r");
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
