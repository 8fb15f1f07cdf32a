// Hash policies between Sluice (per cluster, or per route) and Envoy (per
// route): what goes out, what a route from an Envoy control plane becomes,
// and the exact NACK for what Sluice cannot hash by.
#include <gtest/gtest.h>

#include "config/route_config.h"
#include "envoy/config/route/v3/route.pb.h"
#include "tests/unit/xds/listener_translate_support.h"

namespace sluice::xds {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using testing::canonical;
using testing::fromText;
using testing::joined;
using testing::loadYaml;
using testing::packed;
using testing::roundTrip;

constexpr const char* kYaml = R"(
route_configs:
  - name: main
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {prefix: /own}
            route: {cluster: users, hash_policy: [{header: X-Session}, {cookie: sid}, {source_ip: true}]}
          - match: {prefix: /split}
            route: {weighted_clusters: [{name: plain, weight: 1}, {name: users, weight: 1}]}
          - match: {prefix: /plain}
            route: {cluster: plain}
          - match: {prefix: /}
            route: {cluster: users}
clusters:
  - name: users
    lb_policy: ring_hash
    hash_policy: [{query_parameter: user}]
    endpoints: [{address: 127.0.0.1:18081}, {address: 127.0.0.1:18082}]
  - name: plain
    endpoints: [{address: 127.0.0.1:18083}]
)";

RouteConfiguration served(const config::Config& cfg) {
  const auto out = toEnvoy(cfg);
  const auto& routes = out.find(kRouteConfigurationType)->second;
  EXPECT_EQ(routes.size(), 1u);
  RouteConfiguration rc;
  EXPECT_TRUE(routes.at(0).body.UnpackTo(&rc));
  return rc;
}

TEST(XdsRouteHash, RoutesGoOutWithTheirOwnPolicyOrTheirClustersAllTerminal) {
  auto cfg = loadYaml(kYaml);
  ASSERT_TRUE(cfg);
  const RouteConfiguration rc = served(*cfg);
  const auto& routes = rc.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 4);

  const auto& own = routes[0].route().hash_policy();
  ASSERT_EQ(own.size(), 3);
  EXPECT_EQ(own[0].header().header_name(), "x-session");
  EXPECT_EQ(own[1].cookie().name(), "sid");
  EXPECT_TRUE(own[2].connection_properties().source_ip());
  for (const auto& p : own) EXPECT_TRUE(p.terminal()) << p.ShortDebugString();
  EXPECT_FALSE(routes[0].has_metadata()) << "a route's own policy needs no mark";

  // Weighted: the first cluster that has a policy (plain has none).
  for (int i : {1, 3}) {
    const auto& derived = routes[i].route().hash_policy();
    ASSERT_EQ(derived.size(), 1) << i;
    EXPECT_EQ(derived[0].query_parameter().name(), "user") << i;
    EXPECT_TRUE(derived[0].terminal()) << i;
    EXPECT_TRUE(routes[i].metadata().filter_metadata().at("io.sluice").fields().at("hash_policy_from_cluster").bool_value())
        << i;
  }
  EXPECT_EQ(routes[2].route().hash_policy_size(), 0) << "a cluster without a policy adds none";
}

TEST(XdsRouteHash, RoundTripKeepsRoutePoliciesAndLeavesClusterOnesOnTheCluster) {
  auto cfg = loadYaml(kYaml);
  ASSERT_TRUE(cfg);
  const AssembleResult r = roundTrip(*cfg);
  ASSERT_TRUE(r.config) << joined(r.errors);
  EXPECT_EQ(canonical(*r.config).dump(2), canonical(*cfg).dump(2));
  const auto& routes = r.config->route_configs.at(0).spec->virtual_hosts.at(0).routes;
  EXPECT_EQ(routes.at(0).route->hash_policy.size(), 3u);
  EXPECT_TRUE(routes.at(3).route->hash_policy.empty());
}

RouteConfiguration envoyRoute(const std::string& hash_policies) {
  return fromText<RouteConfiguration>("name: 'r' virtual_hosts { name: 'v' domains: '*' routes { match { prefix: "
                                      "'/' } route { cluster: 'c' " +
                                      hash_policies + " } } }");
}

TEST(XdsRouteHash, AnEnvoyControlPlanesRoutePolicyIsTaken) {
  // As Istio writes a DestinationRule's consistentHash: one policy, not terminal.
  ReceivedResources in;
  in.route_configs["r"] = packed(envoyRoute("hash_policy { header { header_name: 'X-User' } }"));
  const AssembleResult r = assemble(config::Config{}, in);
  ASSERT_TRUE(r.config) << joined(r.errors);
  const auto& action = *r.config->route_configs.at(0).spec->virtual_hosts.at(0).routes.at(0).route;
  ASSERT_EQ(action.hash_policy.size(), 1u);
  EXPECT_EQ(action.hash_policy[0].kind, config::HashPolicyConfig::Kind::Header);
  EXPECT_EQ(action.hash_policy[0].name, "x-user");

  EXPECT_EQ(checkResource(kRouteConfigurationType,
                          packed(envoyRoute("hash_policy { terminal: true connection_properties { source_ip: true } } "
                                            "hash_policy { query_parameter { name: 'u' } }"))),
            "");
}

TEST(XdsRouteHash, WhatSluiceCannotHashByIsNackedNamingTheField) {
  const struct {
    const char* what;
    std::string hash_policies;
    std::string expected;
  } cases[] = {
      {"combined policies", "hash_policy { header { header_name: 'a' } } hash_policy { cookie { name: 'b' } }",
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.hash_policy[0].terminal: must be true: Sluice takes "
       "the first policy that yields a key and cannot combine them"},
      {"a cookie Envoy would set", "hash_policy { cookie { name: 'sid' ttl { seconds: 60 } } }",
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.hash_policy[0].cookie.ttl: not supported by Sluice"},
      {"filter state", "hash_policy { filter_state { key: 'io.grpc.channel_id' } }",
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.hash_policy[0].filter_state: not supported by "
       "Sluice"},
      {"a rewritten header",
       "hash_policy { header { header_name: 'a' regex_rewrite { pattern { regex: 'x' } substitution: 'y' } } }",
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.hash_policy[0].header.regex_rewrite: not supported "
       "by Sluice"},
      {"no header name", "hash_policy { header { } }",
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.hash_policy[0].header.header_name: required"},
      {"source_ip false", "hash_policy { connection_properties { source_ip: false } }",
       "RouteConfiguration 'r': virtual_hosts[0].routes[0].route.hash_policy[0].connection_properties.source_ip: "
       "must be true"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(checkResource(kRouteConfigurationType, packed(envoyRoute(c.hash_policies))), c.expected) << c.what;
}

}  // namespace
}  // namespace sluice::xds
