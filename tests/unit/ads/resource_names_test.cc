#include "proxy/ads/resource_names.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;

template <class M>
google::protobuf::Any pack(const M& m) {
  google::protobuf::Any any;
  any.PackFrom(m);
  return any;
}

TEST(ResourceNames, ListenerNamesItsRouteConfigsAndSecrets) {
  envoy::config::listener::v3::Listener l;
  l.set_name("web");
  for (const char* rc : {"r1", "r2"}) {
    HttpConnectionManager hcm;
    hcm.mutable_rds()->set_route_config_name(rc);
    auto* chain = l.add_filter_chains();
    chain->add_filters()->mutable_typed_config()->PackFrom(hcm);
    tls_v3::DownstreamTlsContext tls;
    tls.mutable_common_tls_context()->add_tls_certificate_sds_secret_configs()->set_name("cert");
    tls.mutable_common_tls_context()->mutable_validation_context_sds_secret_config()->set_name("ca");
    chain->mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
  }
  HttpConnectionManager inline_routes;
  inline_routes.mutable_route_config()->set_name("inline");
  l.mutable_default_filter_chain()->add_filters()->mutable_typed_config()->PackFrom(inline_routes);

  const auto names = referencedNames(xds::kListenerType, pack(l));
  EXPECT_EQ(names.route_configs, (std::set<std::string>{"r1", "r2"}));  // inline tables are not fetched
  EXPECT_EQ(names.secrets, (std::set<std::string>{"ca", "cert"}));
  EXPECT_TRUE(names.load_assignments.empty());
  std::string error;
  EXPECT_EQ(resourceName(xds::kListenerType, pack(l), &error), "web");
  EXPECT_TRUE(error.empty());
}

TEST(ResourceNames, EdsClusterNamesItsServiceOrItself) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name("web");
  c.set_type(envoy::config::cluster::v3::Cluster::EDS);
  EXPECT_EQ(referencedNames(xds::kClusterType, pack(c)).load_assignments, (std::set<std::string>{"web"}));
  c.mutable_eds_cluster_config()->set_service_name("web-v2");
  EXPECT_EQ(referencedNames(xds::kClusterType, pack(c)).load_assignments, (std::set<std::string>{"web-v2"}));
  c.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  EXPECT_TRUE(referencedNames(xds::kClusterType, pack(c)).load_assignments.empty());
}

TEST(ResourceNames, WrongTypeOrNoNameIsAnError) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name("web");
  std::string error;
  EXPECT_EQ(resourceName(xds::kListenerType, pack(c), &error), "");
  EXPECT_NE(error.find("in a Listener response"), std::string::npos) << error;
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  error.clear();
  EXPECT_EQ(resourceName(xds::kClusterLoadAssignmentType, pack(cla), &error), "");
  EXPECT_EQ(error, "has no name");
  cla.set_cluster_name("web");
  error.clear();
  EXPECT_EQ(resourceName(xds::kClusterLoadAssignmentType, pack(cla), &error), "web");
}

}  // namespace
}  // namespace sluice::ads
