// The capture keys through Envoy v3 and back: Listener.use_original_dst (with
// Envoy's original_dst listener filter beside it), FilterChainMatch's
// destination_port and prefix_ranges, and Cluster type ORIGINAL_DST (with
// original_dst_lb_config.use_http_header and cleanup_interval), compared
// whole through config::toJson; and what Envoy's own form of them gives.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/xds/listener_translate_support.h"
#include "xds/cluster_translate.h"
#include "xds/listener_translate.h"

namespace sluice::xds {
namespace {

using testing::canonical;
using testing::joined;
using testing::loadYaml;
using testing::roundTrip;

constexpr const char* kCapture = R"(
listeners:
  - name: outbound
    address: 0.0.0.0:15001
    use_original_dst: true
    filter_chains:
      - match: {destination_port: 8080, prefix_ranges: [10.1.0.0/16, "fd00::/8"]}
        tcp_proxy: {cluster: svc}
      - match: {destination_port: 9090}
        tcp_proxy: {cluster: svc}
      - tcp_proxy: {cluster: passthrough}
  - name: one-chain
    address: "[::]:15006"
    use_original_dst: true
    filter_chains:
      - match: {prefix_ranges: [10.0.0.0/8]}
        tcp_proxy: {cluster: passthrough}
clusters:
  - name: svc
    endpoints: [{address: 10.1.0.7:8080}]
  - name: passthrough
    type: original_dst
    connect_timeout: 2s
  - name: by-header
    type: original_dst
    use_http_header: true
    cleanup_interval: 30s
)";

TEST(XdsCaptureRoundTrip, ListenerAndClusterComeBack) {
  auto cfg = loadYaml(kCapture);
  ASSERT_TRUE(cfg);
  const AssembleResult r = roundTrip(*cfg);
  ASSERT_TRUE(r.config) << joined(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
  EXPECT_EQ(canonical(*r.config).dump(2), canonical(*cfg).dump(2));
  // A lone chain with a destination match stays a chain: folding it into
  // the single-chain form would drop the match.
  const auto one = std::find_if(r.config->listeners.begin(), r.config->listeners.end(),
                                [](const config::ListenerConfig& l) { return l.name == "one-chain"; });
  ASSERT_NE(one, r.config->listeners.end());
  EXPECT_EQ(one->filter_chains.size(), 1u);
  EXPECT_TRUE(one->filters.empty());
}

TEST(XdsCaptureRoundTrip, DualStackListenerIsIpv4CompatForEnvoy) {
  auto cfg = loadYaml(kCapture);
  ASSERT_TRUE(cfg);
  envoy_listener::Listener v4;
  listenerToEnvoy(cfg->listeners[0], v4);
  EXPECT_FALSE(v4.address().socket_address().ipv4_compat());  // 0.0.0.0
  envoy_listener::Listener l;
  listenerToEnvoy(cfg->listeners[1], l);
  EXPECT_EQ(l.address().socket_address().address(), "::");
  EXPECT_TRUE(l.address().socket_address().ipv4_compat());
  // Envoy's dual-stack "::" reads as Sluice's [::].
  config::ListenerConfig back;
  std::vector<config::RouteConfigEntry> routes;
  ASSERT_TRUE(listenerFromEnvoy(l, back, routes).empty());
  EXPECT_EQ(back.address.str(), "[::]:15006");
}

TEST(XdsCaptureRoundTrip, EnvoyFields) {
  auto cfg = loadYaml(kCapture);
  ASSERT_TRUE(cfg);
  envoy_listener::Listener l;
  listenerToEnvoy(cfg->listeners[0], l);
  EXPECT_TRUE(l.use_original_dst().value());
  ASSERT_GE(l.listener_filters_size(), 1);
  EXPECT_EQ(l.listener_filters(0).name(), "envoy.filters.listener.original_dst");
  const auto& m = l.filter_chains(0).filter_chain_match();
  EXPECT_EQ(m.destination_port().value(), 8080u);
  ASSERT_EQ(m.prefix_ranges_size(), 2);
  EXPECT_EQ(m.prefix_ranges(0).address_prefix(), "10.1.0.0");
  EXPECT_EQ(m.prefix_ranges(0).prefix_len().value(), 16u);
  EXPECT_EQ(m.prefix_ranges(1).address_prefix(), "fd00::");
  EXPECT_FALSE(l.filter_chains(2).has_filter_chain_match());

  envoy_cluster::Cluster c;
  clusterToEnvoy(*cfg->findCluster("passthrough"), c);
  EXPECT_EQ(c.type(), envoy_cluster::Cluster::ORIGINAL_DST);
  EXPECT_EQ(c.lb_policy(), envoy_cluster::Cluster::CLUSTER_PROVIDED);
  EXPECT_FALSE(c.has_eds_cluster_config());
  EXPECT_EQ(c.cleanup_interval().seconds(), 5);  // Envoy's default, sent explicitly
  EXPECT_FALSE(c.has_original_dst_lb_config());
  clusterToEnvoy(*cfg->findCluster("by-header"), c);
  EXPECT_EQ(c.cleanup_interval().seconds(), 30);
  EXPECT_TRUE(c.original_dst_lb_config().use_http_header());

  // Envoy's way to ask for the original destination (the listener filter
  // alone) reads as use_original_dst; a bare prefix means /32.
  l.clear_use_original_dst();
  l.mutable_filter_chains(0)->mutable_filter_chain_match()->mutable_prefix_ranges(0)->clear_prefix_len();
  config::ListenerConfig back;
  std::vector<config::RouteConfigEntry> routes;
  ASSERT_TRUE(listenerFromEnvoy(l, back, routes).empty());
  EXPECT_TRUE(back.use_original_dst);
  EXPECT_EQ(back.filter_chains[0].match.prefix_ranges[0].str(), "10.1.0.0/32");
}

}  // namespace
}  // namespace sluice::xds
