// The bootstrap's `dynamic.ads`: the ADS source and its settings, and one
// node identity whether given there, at the top level, or both.
#include <gtest/gtest.h>

#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::loadOk;

TEST(AdsBootstrap, ReadsTheSourceAndItsSettings) {
  auto cfg = loadOk(
      "dynamic:\n  ads:\n    address: cp.example:15010\n"
      "    node: {id: edge-1, cluster: edge, locality: {region: r, zone: z, sub_zone: s}}\n"
      "    initial_fetch_timeout: 2s\n");
  ASSERT_TRUE(cfg);
  const auto& src = cfg->bootstrap.config_source;
  EXPECT_EQ(src.kind, ConfigSourceSpec::Kind::Ads);
  EXPECT_EQ(src.path, "t.yaml");
  EXPECT_EQ(src.ads.address, "cp.example:15010");
  EXPECT_EQ(src.ads.initial_fetch_timeout, std::chrono::seconds(2));
  EXPECT_FALSE(src.ads.delta);  // state of the world unless asked
  EXPECT_EQ(cfg->bootstrap.node.id, "edge-1");
  EXPECT_EQ(cfg->bootstrap.node.locality.sub_zone, "s");
}

TEST(AdsBootstrap, DeltaIsAccepted) {
  auto cfg = loadOk("dynamic: {ads: {address: 127.0.0.1:15010, node: {id: a}, delta: true}}\n");
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->bootstrap.config_source.ads.delta);
}

TEST(AdsBootstrap, WithoutDynamicTheFileIsTheSource) {
  auto cfg = loadOk("admin: {address: 127.0.0.1:0}\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->bootstrap.config_source.kind, ConfigSourceSpec::Kind::File);
  EXPECT_EQ(cfg->bootstrap.config_source.ads.initial_fetch_timeout, std::chrono::seconds(15));
}

TEST(AdsBootstrap, TopLevelNodeFillsWhatTheAdsNodeLeavesOut) {
  auto cfg = loadOk(
      "node: {id: edge-1, locality: {zone: z}}\n"
      "dynamic: {ads: {address: 127.0.0.1:15010, node: {cluster: edge}}}\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->bootstrap.node.id, "edge-1");
  EXPECT_EQ(cfg->bootstrap.node.cluster, "edge");
  EXPECT_EQ(cfg->bootstrap.node.locality.zone, "z");
  // Only the top-level node: that one.
  cfg = loadOk("node: {id: n}\ndynamic: {ads: {address: 127.0.0.1:15010}}\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->bootstrap.node.id, "n");
}

TEST(AdsBootstrap, ErrorsNameTheField) {
  EXPECT_EQ(errorsOf("node: {cluster: a}\ndynamic: {ads: {address: 127.0.0.1:15010, node: {cluster: b, id: x}}}\n"),
            (testing::Errors{"t.yaml:2:49: dynamic.ads.node.cluster: 'b' differs from the top-level node's 'a' (give it once)"}));
  EXPECT_EQ(errorsOf("dynamic: {ads: {address: 127.0.0.1:15010}}\n"),
            (testing::Errors{"t.yaml:1:10: dynamic.ads.node.id: an ADS client needs a node id (here or in the top-level node)"}));
  EXPECT_EQ(errorsOf("dynamic: {ads: {address: ':15010', node: {id: x}}}\n"),
            (testing::Errors{"t.yaml:1:26: dynamic.ads.address: expected host:port, got ':15010'"}));
  EXPECT_EQ(errorsOf("dynamic: {}\n"), (testing::Errors{"t.yaml:1:10: dynamic: needs ads or ca"}));
  EXPECT_EQ(errorsOf("dynamic: {ads: {address: 127.0.0.1:15010, node: {id: x}}, rest: {}}\n"),
            (testing::Errors{"t.yaml:1:59: dynamic: unknown field 'rest'"}));
}

}  // namespace
}  // namespace sluice::config
