// Network authz config: registered as "authz" on both halves, reads the
// shared policy with its stat_prefix into a Spec, renders it back, builds
// the runtime config from it, and rejects request conditions and bad fields
// with file:line:col paths.
#include "filters/network/authz/config.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "filters/network/authz/filter.h"

namespace sluice::filters::network_authz {
namespace {

std::shared_ptr<const Spec> parse(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "listeners[0].authz");
  return std::static_pointer_cast<const Spec>(reader().read(r));
}

TEST(NetworkAuthzConfigTest, RegisteredByNameOnBothHalves) {
  EXPECT_EQ(config::findNetworkFilterReader("authz"), &reader());
  EXPECT_EQ(net::findNetworkFilter("authz"), &factory());
  EXPECT_FALSE(reader().terminal());
}

TEST(NetworkAuthzConfigTest, ReadsPolicyRendersItAndBuildsIt) {
  config::ParseContext ctx("l.yaml");
  auto spec = parse(R"(
stat_prefix: inbound
default_action: deny
rules:
  - name: allow-client
    action: allow
    principals:
      - {spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/client"}}
      - {source_ip: 10.0.0.0/8}
)",
                   ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(spec->stat_prefix, "inbound");
  ASSERT_EQ(spec->policy.rules.size(), 1u);
  ASSERT_EQ(spec->policy.rules[0].principals.size(), 2u);
  EXPECT_EQ(spec->policy.rules[0].principals[0].spiffe_value, "spiffe://sluice.test/ns/default/sa/client");

  auto cfg = std::static_pointer_cast<const NetworkAuthzConfig>(factory().build(*spec));
  EXPECT_EQ(cfg->enforcer.statPrefix(), "inbound");
  EXPECT_EQ(cfg->enforcer.layer(), sluice::authz::Layer::Network);
  ASSERT_EQ(cfg->enforcer.policy().rules.size(), 1u);
  const nlohmann::json j = spec->toJson();
  EXPECT_EQ(j["stat_prefix"], "inbound");
  EXPECT_EQ(j["default_action"], "deny");
  EXPECT_EQ(j["rules"][0]["name"], "allow-client");
  EXPECT_EQ(j["rules"][0]["principals"][1]["source_ip"], "10.0.0.0/8");
}

TEST(NetworkAuthzConfigTest, RequiresStatPrefix) {
  config::ParseContext missing("l.yaml");
  parse("default_action: allow", missing);
  EXPECT_NE(missing.str().find("l.yaml:1:1: listeners[0].authz.stat_prefix: missing required field"),
            std::string::npos)
      << missing.str();
  config::ParseContext empty("l.yaml");
  parse("stat_prefix: ''", empty);
  EXPECT_NE(empty.str().find("listeners[0].authz.stat_prefix: must not be empty"), std::string::npos)
      << empty.str();
}

TEST(NetworkAuthzConfigTest, RejectsRequestConditionsAndUnknownFields) {
  config::ParseContext ctx("l.yaml");
  parse(R"(stat_prefix: x
rules:
  - action: deny
    methods: [POST]
  - action: deny
    paths: [{prefix: /admin}]
  - action: deny
    headers: [{name: x-env, exact: prod}]
defualt_action: deny
)",
        ctx);
  const std::string text = ctx.str();
  EXPECT_NE(text.find("l.yaml:4:14: listeners[0].authz.rules[0].methods: the network authz filter sees connections, "
                      "not requests"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("l.yaml:6:12: listeners[0].authz.rules[1].paths:"), std::string::npos) << text;
  EXPECT_NE(text.find("l.yaml:8:14: listeners[0].authz.rules[2].headers:"), std::string::npos) << text;
  EXPECT_NE(text.find("listeners[0].authz: unknown field 'defualt_action'"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::filters::network_authz
