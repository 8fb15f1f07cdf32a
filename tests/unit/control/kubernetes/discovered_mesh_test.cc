// Discovered services and workloads beside the file's mesh: the file wins,
// a file's binding may name a discovered service, and a captured workload
// without bindings gets a (listener-less) config.

#include <gtest/gtest.h>

#include "control/control_config.h"
#include "control/kubernetes/mesh_from_cluster.h"

namespace sluice::control::kubernetes {
namespace {

mesh::Mesh discovered() {
  ClusterState state;
  state.replace("services", "",
                {nlohmann::json::parse(R"({"metadata":{"name":"backend","namespace":"default"},
      "spec":{"clusterIP":"10.96.0.10","ports":[{"name":"http","port":8080,"protocol":"TCP"}]}})"),
                 nlohmann::json::parse(R"({"metadata":{"name":"shadowed","namespace":"default"},
      "spec":{"ports":[{"name":"tcp","port":9000}]}})")});
  state.replace("pods", "",
                {nlohmann::json::parse(R"({"metadata":{"name":"backend-x","namespace":"default",
      "labels":{"app":"backend"},"annotations":{"sluice.io/status":"injected"}},"spec":{"serviceAccountName":"backend"},"status":{"phase":"Running"}})")});
  state.replace("endpointslices", "",
                {nlohmann::json::parse(R"({"metadata":{"name":"backend-1","namespace":"default",
      "labels":{"kubernetes.io/service-name":"backend"}},"addressType":"IPv4",
      "endpoints":[{"addresses":["10.244.0.5"],"conditions":{"ready":true},
                    "targetRef":{"kind":"Pod","name":"backend-x","namespace":"default"}}],
      "ports":[{"name":"http","port":8080}]})")});
  return meshFromCluster(state.snapshot());
}

const char* kFile =
    "kubernetes: {api_server: 'http://127.0.0.1:1'}\n"
    "mesh:\n"
    "  services:\n"
    "    - name: shadowed\n"
    "      ports: [{port: 7000, protocol: http}]\n"
    "      addresses: [10.96.0.99]\n"
    "  workloads:\n"
    "    - name: client\n"
    "      outbound: [{service: backend, port: 8080, address: 127.0.0.1:15001}]\n";

TEST(DiscoveredMesh, AFileBindingReachesADiscoveredServiceWithMtlsToItsPods) {
  const mesh::Mesh d = discovered();
  const auto r = loadControlString(kFile, "control.yaml", nullptr, &d);
  ASSERT_TRUE(r.config) << r.errorText();
  const mesh::ProxyConfig* client = nullptr;
  const mesh::ProxyConfig* backend = nullptr;
  for (const auto& p : r.config->mesh_proxies) {
    if (p.name == "client") client = &p;
    if (p.name == "backend-x") backend = &p;  // a pod without a controller
  }
  ASSERT_NE(client, nullptr);
  ASSERT_NE(backend, nullptr);
  EXPECT_NE(client->summary.find("cluster outbound_8080__backend.default  1 endpoint(s), mTLS verifying "
                                 "spiffe://cluster.local/ns/default/sa/backend"),
            std::string::npos)
      << client->summary;
  EXPECT_NE(client->yaml.find("10.244.0.5:8080"), std::string::npos) << client->yaml;
  // The captured workload: accepted with no bindings; its listeners are the capture ports'.
  ASSERT_TRUE(backend->config);
  ASSERT_EQ(backend->config->listeners.size(), 2u);
  EXPECT_EQ(backend->config->listeners[0].name, "inbound_capture");
  EXPECT_EQ(backend->config->listeners[1].name, "outbound_capture");
  EXPECT_EQ(r.config->groupFor("backend-x.default", ""), "sidecar/default/backend-x");
}

TEST(DiscoveredMesh, TheFilesServiceWinsAndIsReported) {
  const mesh::Mesh d = discovered();
  const auto r = loadControlString(kFile, "control.yaml", nullptr, &d);
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->shadowed, (std::vector<std::string>{"service default/shadowed"}));
  const mesh::Service* s = r.config->mesh->findService("default", "shadowed");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ports[0].port, 7000u);
  EXPECT_EQ(s->addresses, (std::vector<std::string>{"10.96.0.99"}));
  EXPECT_EQ(r.config->mesh->findService("default", "backend")->addresses, (std::vector<std::string>{"10.96.0.10"}));
}

TEST(DiscoveredMesh, WithoutDiscoveryYetTheFilesBindingToADiscoveredServiceIsAnError) {
  const auto r = loadControlString(kFile, "control.yaml");
  EXPECT_EQ(r.errorText(), "control.yaml:9:18: mesh.workloads[0].outbound[0].service: unknown service 'backend' in "
                           "namespace 'default'\n");
}

TEST(DiscoveredMesh, AFileWorkloadMayBeCapturedWithNoBindings) {
  const auto r = loadControlString("mesh:\n  workloads:\n    - {name: app, capture: true}\n", "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_TRUE(r.config->mesh->workloads[0].captured);
  ASSERT_EQ(r.config->mesh_proxies.size(), 1u);
  EXPECT_TRUE(r.config->mesh_proxies[0].config);
  EXPECT_EQ(loadControlString("mesh:\n  services:\n    - {name: s, ports: [{port: 1}], addresses: [nope]}\n",
                              "control.yaml")
                .errorText(),
            "control.yaml:3:49: mesh.services[0].addresses[0]: 'nope' is not an IP address (a service's virtual IP, no "
            "port or prefix)\n");
}

}  // namespace
}  // namespace sluice::control::kubernetes
