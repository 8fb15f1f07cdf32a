// A mesh endpoint's `locality`: read (with its mistakes at their line), put
// on the proxies' cluster endpoints, and sent over EDS in the
// ClusterLoadAssignment's LocalityLbEndpoints.

#include <gtest/gtest.h>

#include "control/control_config.h"
#include "control/mesh/proxy_config.h"
#include "tests/unit/control/mesh/mesh_test_support.h"
#include "xds/cluster_translate.h"

namespace sluice::control::mesh {
namespace {

// Line 1 is the first line after R"(.
const char* const kMesh = R"(mesh:
  services:
    - name: api
      ports: [{port: 8080}]
      endpoints:
        - {address: 127.0.0.1:15106, workload: api-a, locality: {region: eu, zone: eu-1a, sub_zone: rack-1}}
        - {address: 127.0.0.1:15206, workload: api-b, locality: {region: eu, zone: eu-1b}}
        - {address: 127.0.0.1:15306, workload: api-c, priority: 1}
  workloads:
    - {name: api-a, service_account: api}
    - {name: api-b, service_account: api}
    - {name: api-c, service_account: api}
    - name: web
      outbound: [{service: api, port: 8080, address: 127.0.0.1:15101}]
)";

TEST(MeshEndpointLocality, IsReadAndReachesTheClusterLoadAssignment) {
  const ControlLoadResult r = loadControlString(kMesh, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& eps = r.config->mesh->services[0].endpoints;
  EXPECT_EQ(eps[0].locality, (config::LocalityConfig{"eu", "eu-1a", "rack-1"}));
  EXPECT_EQ(eps[2].locality, config::LocalityConfig{});

  const ProxyConfig* web = nullptr;
  for (const auto& p : r.config->mesh_proxies)
    if (p.group == "sidecar/default/web") web = &p;
  ASSERT_TRUE(web && web->config);
  EXPECT_NE(web->yaml.find("locality: {region: eu, zone: eu-1a, sub_zone: rack-1}"), std::string::npos) << web->yaml;
  const config::ClusterLoadAssignmentSpec* la = web->config->findLoadAssignment("outbound_8080__api.default");
  ASSERT_TRUE(la);
  ASSERT_EQ(la->endpoints.size(), 3u);
  EXPECT_EQ(la->endpoints[1].locality, (config::LocalityConfig{"eu", "eu-1b", ""}));

  // What EDS carries: a LocalityLbEndpoints per locality and priority.
  xds::envoy_endpoint::ClusterLoadAssignment eds;
  xds::loadAssignmentToEnvoy(*la, eds);
  ASSERT_EQ(eds.endpoints_size(), 3);
  EXPECT_EQ(eds.endpoints(0).locality().zone(), "eu-1a");
  EXPECT_EQ(eds.endpoints(0).locality().sub_zone(), "rack-1");
  EXPECT_EQ(eds.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().port_value(), 15106u);
  EXPECT_EQ(eds.endpoints(1).locality().zone(), "eu-1b");
  EXPECT_EQ(eds.endpoints(1).priority(), 0u);
  EXPECT_EQ(eds.endpoints(2).priority(), 1u);
  EXPECT_EQ(eds.endpoints(2).locality().region(), "");
}

TEST(MeshEndpointLocality, MistakesAreNamedAtTheirLine) {
  std::string yaml = kMesh;
  yaml.replace(yaml.find("sub_zone: rack-1"), 16, "subzone: rack-1");
  yaml.replace(yaml.find("locality: {region: eu, zone: eu-1b}"), 35, "locality: eu-1b");
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  ASSERT_FALSE(r.config);
  const std::vector<std::string> errors = test::errorLines(r);
  ASSERT_EQ(errors.size(), 2u) << r.errorText();
  EXPECT_EQ(errors[0].rfind("control.yaml:6:", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("mesh.services[0].endpoints[0].locality: unknown field 'subzone'"), std::string::npos)
      << errors[0];
  EXPECT_EQ(errors[1], "control.yaml:7:65: mesh.services[0].endpoints[1].locality: expected a mapping");
}

}  // namespace
}  // namespace sluice::control::mesh
