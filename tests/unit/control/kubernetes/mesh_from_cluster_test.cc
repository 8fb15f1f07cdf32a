// Recorded API-server List responses (data/*.json) as the mesh's
// discovered part.

#include "control/kubernetes/mesh_from_cluster.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sluice::control::kubernetes {
namespace {

nlohmann::json load(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/kubernetes/data/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

ClusterObjects recorded() {
  ClusterState state;
  for (const char* r : {"services", "endpointslices", "pods", "namespaces", "serviceaccounts"}) {
    const nlohmann::json list = load(std::string(r) + ".json");
    std::vector<nlohmann::json> items(list["items"].begin(), list["items"].end());
    state.replace(r, "", std::move(items));
  }
  return state.snapshot();
}

const mesh::Service& service(const mesh::Mesh& m, const std::string& ns, const std::string& name) {
  for (const auto& s : m.services)
    if (s.ns == ns && s.name == name) return s;
  ADD_FAILURE() << "no service " << ns << "/" << name;
  static const mesh::Service none;
  return none;
}

std::vector<std::string> endpoints(const mesh::Service& s) {
  std::vector<std::string> out;
  for (const auto& e : s.endpoints) out.push_back(std::to_string(e.port) + " " + e.address.str() + " " + e.workload);
  return out;
}

TEST(MeshFromCluster, AServiceTakesItsTcpPortsProtocolsAndClusterIps) {
  const mesh::Mesh m = meshFromCluster(recorded());
  const mesh::Service& backend = service(m, "prod", "backend");
  ASSERT_EQ(backend.ports.size(), 3u);  // the UDP port is left out
  EXPECT_EQ(backend.ports[0].name, "http-api");
  EXPECT_EQ(backend.ports[0].protocol, mesh::Protocol::Http);  // by name
  EXPECT_EQ(backend.ports[1].protocol, mesh::Protocol::Grpc);  // by appProtocol
  EXPECT_EQ(backend.ports[2].protocol, mesh::Protocol::Tcp);   // unknown
  EXPECT_EQ(backend.addresses, (std::vector<std::string>{"10.96.12.34", "fd00:10:96::1234"}));
  const mesh::Service& web = service(m, "prod", "web");
  ASSERT_EQ(web.ports.size(), 1u);
  EXPECT_EQ(web.ports[0].protocol, mesh::Protocol::Http2);  // kubernetes.io/h2c
  EXPECT_EQ(web.ports[0].name, "http2-80");
  EXPECT_TRUE(service(m, "data", "db").addresses.empty());  // headless
  for (const auto& s : m.services) EXPECT_NE(s.name, "search") << "ExternalName services are not mesh services";
}

TEST(MeshFromCluster, ReadyEndpointsOfKnownPodsBecomeEndpointsWithTheirWorkload) {
  const mesh::Mesh m = meshFromCluster(recorded());
  // Not ready (terminating) and not-yet-known pods are left out; the target
  // port is the slice's (8081), not the service's.
  EXPECT_EQ(endpoints(service(m, "prod", "backend")), (std::vector<std::string>{
                                                          "8080 10.244.1.17:8081 backend",
                                                          "8080 10.244.2.9:8081 backend",
                                                          "9090 10.244.1.17:9090 backend",
                                                          "9090 10.244.2.9:9090 backend",
                                                          "9100 10.244.1.17:9100 backend",
                                                          "9100 10.244.2.9:9100 backend",
                                                      }));
  // An unnamed port, no ready condition (ready), a hand-made endpoint
  // without a pod (outside the mesh), and no FQDN slice.
  EXPECT_EQ(endpoints(service(m, "prod", "web")),
            (std::vector<std::string>{"80 10.244.1.40:8000 web", "80 192.0.2.10:8000 "}));
}

TEST(MeshFromCluster, PodsBecomeOneCapturedWorkloadPerController) {
  const mesh::Mesh m = meshFromCluster(recorded());
  ASSERT_EQ(m.workloads.size(), 2u);  // not the hostNetwork pod, not the finished Job
  const mesh::Workload& backend = m.workloads[0];
  EXPECT_EQ(backend.name, "backend");
  EXPECT_EQ(backend.ns, "prod");
  EXPECT_EQ(backend.service_account, "backend");
  EXPECT_EQ(backend.labels, (mesh::Labels{{"app", "backend"}, {"version", "v1"}}));
  EXPECT_TRUE(backend.captured);
  EXPECT_EQ(m.workloads[1].name, "web");
  EXPECT_EQ(m.workloads[1].service_account, "default");
  EXPECT_EQ(m.namespace_labels.at("prod").at("sluice-injection"), "enabled");
  EXPECT_EQ(m.service_accounts, (std::vector<std::string>{"prod/backend", "prod/default"}));
}

TEST(MeshFromCluster, APodWithoutASidecarIsOutsideTheMesh) {
  ClusterObjects objects = recorded();
  objects["pods"]["prod/web"]["metadata"].erase("annotations");
  mesh::Mesh m = meshFromCluster(objects);
  ASSERT_EQ(m.workloads.size(), 1u);
  EXPECT_EQ(m.workloads[0].name, "backend");
  // Its endpoints are still the service's, with no workload: called in plaintext.
  EXPECT_EQ(endpoints(service(m, "prod", "web")),
            (std::vector<std::string>{"80 10.244.1.40:8000 ", "80 192.0.2.10:8000 "}));
  // A sidecar container named as the webhook names it is enough.
  objects["pods"]["prod/web"]["spec"]["initContainers"] =
      nlohmann::json::parse(R"([{"name": "sluice-proxy", "restartPolicy": "Always"}])");
  m = meshFromCluster(objects);
  EXPECT_EQ(m.workloads.size(), 2u);
}

TEST(MeshFromCluster, SourcesChangeWithWhatProxiesReadAndNotWithResourceVersions) {
  ClusterObjects objects = recorded();
  const mesh::Mesh before = meshFromCluster(objects);
  // A status-only update: new resourceVersion, same fields.
  objects["endpointslices"]["prod/backend-7xk2p"]["metadata"]["resourceVersion"] = "99999";
  objects["pods"]["prod/backend-5d8f7c9b4-2hxqz"]["status"]["conditions"] = nlohmann::json::array();
  const mesh::Mesh same = meshFromCluster(objects);
  EXPECT_EQ(service(same, "prod", "backend").source, service(before, "prod", "backend").source);
  EXPECT_EQ(same.workloads[0].source, before.workloads[0].source);
  // An endpoint going unready changes the service, not the workload.
  objects["endpointslices"]["prod/backend-7xk2p"]["endpoints"][1]["conditions"]["ready"] = false;
  const mesh::Mesh fewer = meshFromCluster(objects);
  EXPECT_NE(service(fewer, "prod", "backend").source, service(before, "prod", "backend").source);
  EXPECT_EQ(fewer.workloads[0].source, before.workloads[0].source);
  // A label change changes the workload.
  objects["pods"]["prod/backend-5d8f7c9b4-2hxqz"]["metadata"]["labels"]["version"] = "v2";
  EXPECT_NE(meshFromCluster(objects).workloads[0].source, before.workloads[0].source);
}

TEST(MeshFromCluster, PortProtocolFollowsAppProtocolThenTheNamePrefix) {
  EXPECT_EQ(portProtocol("http", "tcp-x"), mesh::Protocol::Http);
  EXPECT_EQ(portProtocol("kubernetes.io/h2c", ""), mesh::Protocol::Http2);
  EXPECT_EQ(portProtocol("", "grpc-web"), mesh::Protocol::Grpc);
  EXPECT_EQ(portProtocol("", "http2"), mesh::Protocol::Http2);
  EXPECT_EQ(portProtocol("", "tcp-db"), mesh::Protocol::Tcp);
  EXPECT_EQ(portProtocol("", "https"), mesh::Protocol::Tcp);
  EXPECT_EQ(portProtocol("example.com/custom", "web"), mesh::Protocol::Tcp);
}

}  // namespace
}  // namespace sluice::control::kubernetes
