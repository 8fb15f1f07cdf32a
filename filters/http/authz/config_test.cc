// HTTP authz config: registered as "authz" on both halves, reads the shared
// policy with request conditions into a Spec, renders it, reports bad fields
// with file:line:col paths, builds the runtime config from the Spec, and
// works as a per-route override.
#include "filters/http/authz/config.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "filters/http/authz/filter.h"
#include "proxy/http/route_config.h"

namespace sluice::filters::authz {
namespace {

std::shared_ptr<const Spec> read(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "http_filters[0].authz");
  return std::static_pointer_cast<const Spec>(reader().read(r));
}

TEST(AuthzConfigTest, RegisteredByNameOnBothHalves) {
  EXPECT_EQ(config::findHttpFilterReader("authz"), &reader());
  EXPECT_EQ(sluice::http::findHttpFilter("authz"), &factory());
}

TEST(AuthzConfigTest, ReadsRequestConditionsIntoASpec) {
  config::ParseContext ctx("h.yaml");
  auto spec = read(R"(
stat_prefix: api
rules:
  - name: read
    action: allow
    methods: [GET]
    paths: [{prefix: /api}]
    headers: [{name: x-env, exact: prod}]
  - {name: no-admin, action: deny, paths: [{prefix: /admin}]}
default_action: deny
)",
                   ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(spec->stat_prefix, "api");
  ASSERT_EQ(spec->policy.rules.size(), 2u);
  EXPECT_EQ(spec->policy.rules[0].methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(spec->policy.default_action, config::AuthzAction::Deny);
  const nlohmann::json j = spec->toJson();
  EXPECT_EQ(j["stat_prefix"], "api");
  EXPECT_EQ(j["default_action"], "deny");
  EXPECT_EQ(j["rules"][0]["methods"][0], "GET");
  EXPECT_EQ(j["rules"][0]["headers"][0]["exact"], "prod");
  EXPECT_EQ(j["rules"][1]["paths"][0]["prefix"], "/admin");

  auto cfg = std::static_pointer_cast<const AuthzConfig>(factory().build(*spec));
  EXPECT_EQ(cfg->enforcer.layer(), sluice::authz::Layer::Http);
  EXPECT_EQ(cfg->enforcer.statPrefix(), "api");
  ASSERT_EQ(cfg->enforcer.policy().rules.size(), 2u);
  EXPECT_EQ(cfg->enforcer.policy().rules[1].name, "no-admin");
  EXPECT_EQ(cfg->enforcer.policy().default_action, sluice::authz::Action::Deny);
}

TEST(AuthzConfigTest, ReportsErrorsWithPaths) {
  config::ParseContext ctx("h.yaml");
  read(R"(default_action: deny
rules:
  - action: allow
    methods: [Get]
    paths: [{exact: healthz}]
    headers: [{name: "bad name", exact: x}]
)",
        ctx);
  const std::string text = ctx.str();
  EXPECT_NE(text.find("h.yaml:1:1: http_filters[0].authz.stat_prefix: missing required field"), std::string::npos)
      << text;
  EXPECT_NE(text.find("h.yaml:4:15: http_filters[0].authz.rules[0].methods[0]: expected an upper-case method"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("h.yaml:5:21: http_filters[0].authz.rules[0].paths[0].exact: must start with '/'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http_filters[0].authz.rules[0].headers[0].name: invalid header name 'bad name'"),
            std::string::npos)
      << text;
}

TEST(AuthzConfigTest, PerRouteOverrideParsesThroughTheRouteConfig) {
  config::ParseContext ctx("r.yaml");
  const YAML::Node node = YAML::Load(R"(
virtual_hosts:
  - name: all
    domains: ["*"]
    per_filter_config:
      authz: {stat_prefix: vhost, default_action: deny}
    routes:
      - match: {prefix: /open}
        route: {cluster: c1}
        per_filter_config:
          authz: {stat_prefix: open}
      - match: {prefix: /bad}
        route: {cluster: c1}
        per_filter_config:
          authz: {stat_prefix: bad, rules: [{action: maybe}]}
)");
  config::MapReader r(ctx, node, "route_config");
  auto rc = sluice::http::RouteConfig::build(*config::readRouteConfig(r));
  EXPECT_NE(ctx.str().find(
                "r.yaml:15:54: route_config.virtual_hosts[0].routes[1].per_filter_config.authz.rules[0].action: must "
                "be allow or deny"),
            std::string::npos)
      << ctx.str();
  ASSERT_EQ(rc->virtual_hosts.size(), 1u);
  const auto* vh = sluice::http::findPerFilterConfig(rc->virtual_hosts[0].per_filter_config, "authz");
  ASSERT_NE(vh, nullptr);
  EXPECT_EQ(static_cast<const AuthzConfig*>(vh)->enforcer.statPrefix(), "vhost");
}

}  // namespace
}  // namespace sluice::filters::authz
