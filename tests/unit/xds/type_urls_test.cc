#include "xds/type_urls.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"

namespace sluice::xds {
namespace {

std::string urlOf(const google::protobuf::Message& m) {
  return "type.googleapis.com/" + m.GetDescriptor()->full_name();
}

// The constants are the generated messages' own names, so a typo cannot
// make a server send, or a client ask for, a type nobody knows.
TEST(TypeUrls, MatchTheGeneratedMessages) {
  EXPECT_EQ(kListenerType, urlOf(envoy::config::listener::v3::Listener()));
  EXPECT_EQ(kRouteConfigurationType, urlOf(envoy::config::route::v3::RouteConfiguration()));
  EXPECT_EQ(kClusterType, urlOf(envoy::config::cluster::v3::Cluster()));
  EXPECT_EQ(kClusterLoadAssignmentType, urlOf(envoy::config::endpoint::v3::ClusterLoadAssignment()));
  EXPECT_EQ(kSecretType, urlOf(envoy::extensions::transport_sockets::tls::v3::Secret()));
}

TEST(TypeUrls, ShortNamesAndFullSets) {
  EXPECT_EQ(shortTypeName(kClusterLoadAssignmentType), "ClusterLoadAssignment");
  EXPECT_TRUE(isFullSetType(kListenerType));
  EXPECT_TRUE(isFullSetType(kClusterType));
  EXPECT_FALSE(isFullSetType(kRouteConfigurationType));
  EXPECT_FALSE(isFullSetType(kClusterLoadAssignmentType));
}

}  // namespace
}  // namespace sluice::xds
