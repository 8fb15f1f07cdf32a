#include "proxy/ads/subscriptions.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

using namespace std::chrono_literals;

google::protobuf::Any cluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  google::protobuf::Any any;
  any.PackFrom(c);
  return any;
}

const event::MonoTime t0 = std::chrono::steady_clock::now();

TEST(Subscriptions, ListenersAndClustersAreWildcardTheRestNamed) {
  Subscriptions s(t0);
  EXPECT_TRUE(s.at(xds::kListenerType).wildcard);
  EXPECT_TRUE(s.at(xds::kClusterType).wildcard);
  EXPECT_FALSE(s.at(xds::kRouteConfigurationType).wildcard);
  EXPECT_FALSE(s.at(xds::kClusterLoadAssignmentType).wildcard);
  EXPECT_EQ(s.find("type.googleapis.com/nope"), nullptr);
  // Send order: clusters first.
  EXPECT_EQ(s.all().front()->type_url, xds::kClusterType);
}

TEST(Subscriptions, WildcardTypesAreAwaitedUntilTheFirstResponseOrTheTimeout) {
  Subscriptions s(t0);
  auto a = s.awaited(t0 + 1s, 15s);
  EXPECT_EQ(a.what.size(), 2u);
  ASSERT_TRUE(a.until);
  EXPECT_EQ(*a.until, t0 + 15s);
  s.arrived(s.at(xds::kClusterType));
  s.arrived(s.at(xds::kListenerType));
  EXPECT_TRUE(s.awaited(t0 + 1s, 15s).what.empty());
  // Had they not come, the timeout would end the wait.
  Subscriptions late(t0);
  EXPECT_TRUE(late.awaited(t0 + 15s, 15s).what.empty());
}

TEST(Subscriptions, NamedInterestWaitsPerNameAndDroppedNamesLeave) {
  Subscriptions s(t0);
  s.arrived(s.at(xds::kClusterType));
  s.arrived(s.at(xds::kListenerType));
  const auto eds = xds::kClusterLoadAssignmentType;
  EXPECT_TRUE(s.setNames(eds, {"a", "b"}, t0 + 1s));
  EXPECT_FALSE(s.setNames(eds, {"a", "b"}, t0 + 2s));  // unchanged: no request
  auto a = s.awaited(t0 + 2s, 5s);
  ASSERT_EQ(a.what.size(), 2u);
  EXPECT_EQ(a.what[0], "ClusterLoadAssignment 'a'");
  EXPECT_EQ(*a.until, t0 + 6s);

  TypeState& t = s.at(eds);
  t.accepted["a"] = cluster("a");  // stands in for a load assignment
  s.arrived(t);
  a = s.awaited(t0 + 2s, 5s);
  ASSERT_EQ(a.what.size(), 1u);
  EXPECT_EQ(a.what[0], "ClusterLoadAssignment 'b'");

  // 'a' dropped: gone from the sets; 'c' added waits from now.
  t.acked["a"] = cluster("a");
  EXPECT_TRUE(s.setNames(eds, {"b", "c"}, t0 + 3s));
  EXPECT_EQ(t.accepted.count("a"), 0u);
  EXPECT_EQ(t.acked.count("a"), 0u);
  a = s.awaited(t0 + 6s + 500ms, 5s);  // b's wait is over, c's is not
  ASSERT_EQ(a.what.size(), 1u);
  EXPECT_EQ(a.what[0], "ClusterLoadAssignment 'c'");
}

TEST(Subscriptions, RequestsCarryTheAckedVersionTheNonceAndTheNames) {
  Subscriptions s(t0);
  s.setNames(xds::kRouteConfigurationType, {"r2", "r1"}, t0);
  TypeState& t = s.at(xds::kRouteConfigurationType);
  t.acked_version = "7";
  t.nonce = "n9";
  auto req = s.request(t);
  EXPECT_EQ(req.type_url(), xds::kRouteConfigurationType);
  EXPECT_EQ(req.version_info(), "7");
  EXPECT_EQ(req.response_nonce(), "n9");
  ASSERT_EQ(req.resource_names_size(), 2);
  EXPECT_EQ(req.resource_names(0), "r1");
  EXPECT_FALSE(req.has_error_detail());

  auto nack = s.nack(t, "n10", "RouteConfiguration 'r1': virtual_hosts[0]: bad");
  EXPECT_EQ(nack.version_info(), "7");  // still the last accepted
  EXPECT_EQ(nack.response_nonce(), "n10");
  EXPECT_EQ(nack.error_detail().code(), 3);
  EXPECT_EQ(nack.error_detail().message(), "RouteConfiguration 'r1': virtual_hosts[0]: bad");

  // Wildcard: no names at all.
  EXPECT_EQ(s.request(s.at(xds::kClusterType)).resource_names_size(), 0);
}

TEST(Subscriptions, CommitAndRollBack) {
  Subscriptions s(t0);
  TypeState& t = s.at(xds::kClusterType);
  t.accepted["a"] = cluster("a");
  t.accepted_versions["a"] = "1";
  t.pending = TypeState::Pending{"1", "n1"};
  t.commit();
  EXPECT_EQ(t.acked_version, "1");
  EXPECT_EQ(t.acked.count("a"), 1u);
  t.pending.reset();

  t.accepted["b"] = cluster("b");
  t.pending = TypeState::Pending{"2", "n2"};
  t.rollBack();
  EXPECT_EQ(t.accepted.count("b"), 0u);
  EXPECT_FALSE(t.pending);
  EXPECT_EQ(t.acked_version, "1");

  // A new stream forgets nonces and held responses.
  t.accepted["c"] = cluster("c");
  t.pending = TypeState::Pending{"3", "n3"};
  t.nonce = "n3";
  t.requested = true;
  s.newStream();
  EXPECT_TRUE(t.nonce.empty());
  EXPECT_FALSE(t.requested);
  EXPECT_FALSE(t.pending);
  EXPECT_EQ(t.accepted.count("c"), 0u);
  EXPECT_EQ(s.received(false).clusters.count("a"), 1u);
}

}  // namespace
}  // namespace sluice::ads
