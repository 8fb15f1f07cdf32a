// control.yaml's `mesh:` block: what is read, and each kind of mistake with
// its file:line:col and mesh path.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/control_config.h"
#include "control/mesh/reader.h"

namespace sluice::control::mesh {
namespace {

std::vector<std::string> errorsOf(const std::string& yaml) {
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  EXPECT_EQ(r.config == nullptr, !r.errors.empty());
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

// Line 1 is the first line after R"(.
const char* const kMesh = R"(mesh:
  trust_domain: td.test
  services:
    - name: backend
      ports: [{port: 8080, protocol: http}, {port: 9090, name: rpc, protocol: grpc}]
      endpoints:
        - {address: 127.0.0.1:15106, workload: backend-v1}
        - {address: 127.0.0.1:15206, workload: backend-v2, weight: 3, priority: 1}
  workloads:
    - name: backend-v1
      service_account: backend
      labels: {version: v1}
      inbound:
        - {service: backend, port: 8080, address: 127.0.0.1:15106, app: 127.0.0.1:18106}
    - name: backend-v2
      namespace: default
      service_account: backend
      labels: {version: v2}
      inbound:
        - {service: backend, port: 8080, address: 127.0.0.1:15206, app: 127.0.0.1:18206}
    - name: client
      outbound:
        - {service: backend, port: 8080, address: 127.0.0.1:15301}
  routes:
    - name: split
      service: backend
      rules:
        - match: {grpc: {service: pkg.Echo, method: Say}}
          to: [{service: backend, port: 9090}]
        - match: {prefix: /}
          to:
            - {service: backend, subset: {version: v1}, weight: 90}
            - {service: backend, subset: {version: v2}, weight: 10}
          timeout: 3s
          retry_policy: {retry_on: [reset], num_retries: 1}
  policies:
    peer_authentication:
      - {mode: PERMISSIVE}
      - {namespace: default, workload: backend-v2, mode: DISABLE}
    authorization:
      - name: callers
        service: backend
        default_action: deny
        rules:
          - {name: client, action: allow, from: {service_accounts: [client, other/robot], namespaces: [ops]}}
)";

TEST(MeshReader, ReadsServicesWorkloadsRoutesAndPolicies) {
  const ControlLoadResult r = loadControlString(kMesh, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  ASSERT_TRUE(r.config->mesh);
  const Mesh& m = *r.config->mesh;
  EXPECT_EQ(m.trust_domain, "td.test");
  ASSERT_EQ(m.services.size(), 1u);
  const Service& s = m.services[0];
  EXPECT_EQ(s.ns, "default");
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0].name, "http-8080");
  EXPECT_EQ(s.ports[1].name, "rpc");
  EXPECT_EQ(s.ports[1].protocol, Protocol::Grpc);
  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[1].weight, 3u);
  EXPECT_EQ(s.endpoints[1].priority, 1u);
  ASSERT_EQ(m.workloads.size(), 3u);
  EXPECT_EQ(m.workloads[2].service_account, "client");  // defaults to the name
  EXPECT_EQ(m.workloads[0].labels.at("version"), "v1");
  ASSERT_EQ(m.routes.size(), 1u);
  ASSERT_EQ(m.routes[0].rules.size(), 2u);
  EXPECT_EQ(m.routes[0].rules[0].match["path"].Scalar(), "/pkg.Echo/Say");
  EXPECT_EQ(m.routes[0].rules[1].to[1].weight, 10u);
  EXPECT_EQ(m.routes[0].rules[1].route_keys.count("timeout"), 1u);

  EXPECT_EQ(m.mtlsFor(m.workloads[0]), MtlsMode::Permissive);  // the mesh-wide default
  EXPECT_EQ(m.mtlsFor(m.workloads[1]), MtlsMode::Disable);     // the workload's own
  ASSERT_EQ(m.authorization.size(), 1u);
  const YAML::Node principals = m.authorization[0].policy["rules"][0]["principals"];
  ASSERT_EQ(principals.size(), 3u);
  EXPECT_EQ(principals[0]["spiffe_id"]["exact"].Scalar(), "spiffe://td.test/ns/default/sa/client");
  EXPECT_EQ(principals[1]["spiffe_id"]["exact"].Scalar(), "spiffe://td.test/ns/other/sa/robot");
  EXPECT_EQ(principals[2]["spiffe_id"]["prefix"].Scalar(), "spiffe://td.test/ns/ops/");

  // A group per proxy, matched by node.id with or without an instance.
  EXPECT_EQ(r.config->groupFor("backend-v1.default", "whatever"), "sidecar/default/backend-v1");
  EXPECT_EQ(r.config->groupFor("backend-v1.default~pod-1", ""), "sidecar/default/backend-v1");
  EXPECT_EQ(r.config->groupFor("backend-v1.defaultx", ""), "");
}

TEST(MeshReader, TheExampleMeshReads) {
  ::setenv("SLUICE_MESH_STATE", "/tmp", 1);
  const ControlLoadResult r = loadControlFile(std::string(SLUICE_SOURCE_DIR) + "/config/examples/mesh/control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->mesh_proxies.size(), 5u);  // four sidecars and the edge
}

// The reader indexes services and workloads; lookups through the index
// find the same as a scan, and a copy edited afterwards still finds what it
// holds (and not what it no longer holds).
TEST(MeshReader, LookupsThroughTheIndexFindWhatIsThere) {
  ::setenv("SLUICE_MESH_STATE", "/tmp", 1);
  const ControlLoadResult r = loadControlFile(std::string(SLUICE_SOURCE_DIR) + "/config/examples/mesh/control.yaml");
  ASSERT_TRUE(r.config && r.config->mesh) << r.errorText();
  const Mesh& mesh = *r.config->mesh;
  for (const auto& s : mesh.services) EXPECT_EQ(mesh.findService(s.ns, s.name), &s);
  for (const auto& w : mesh.workloads) EXPECT_EQ(mesh.findWorkload(w.ns, w.name), &w);
  EXPECT_EQ(mesh.findService("other", "backend"), nullptr);
  EXPECT_EQ(mesh.findWorkload("default", "nobody"), nullptr);

  Mesh copy = mesh;
  copy.workloads[0].name = "renamed";
  std::swap(copy.services[0], copy.services[1]);
  EXPECT_EQ(copy.findWorkload("default", "renamed"), &copy.workloads[0]);
  EXPECT_EQ(copy.findWorkload("default", mesh.workloads[0].name), nullptr);
  EXPECT_EQ(copy.findService("default", mesh.services[0].name), &copy.services[1]);
  EXPECT_EQ(copy.findService("default", mesh.services[1].name), &copy.services[0]);
}

TEST(MeshReader, UnknownReferencesNameTheirLine) {
  std::string yaml = kMesh;
  yaml.replace(yaml.find("{service: backend, subset: {version: v1}"), 17, "{service: backends");
  yaml.replace(yaml.find("workload: backend-v2, weight"), 20, "workload: backend-v9");
  EXPECT_EQ(errorsOf(yaml), (std::vector<std::string>{
                                "control.yaml:8:11: mesh.services[0].endpoints[1].workload: unknown workload "
                                "'backend-v9' in namespace 'default'",
                                "control.yaml:32:15: mesh.routes[0].rules[1].to[0].service: unknown service "
                                "'backends' in namespace 'default'",
                            }));
}

TEST(MeshReader, PassedOnBlocksAreCheckedBySluicesReadersAtTheirMeshPath) {
  std::string yaml = kMesh;
  yaml.replace(yaml.find("num_retries: 1"), 14, "num_retries: x");
  yaml.replace(yaml.find("timeout: 3s"), 11, "timeout: 3q");
  yaml.replace(yaml.find("match: {prefix: /}"), 18, "match: {prefix: x}");
  const auto errors = errorsOf(yaml);
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("control.yaml:30:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("mesh.routes[0].rules[1].match.prefix"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("mesh.routes[0].rules[1].timeout"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("control.yaml:35:"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("mesh.routes[0].rules[1].retry_policy.num_retries"), std::string::npos) << errors[2];
}

TEST(MeshReader, MistakesInThePartsAreEachReported) {
  EXPECT_EQ(errorsOf("mesh:\n  services:\n    - name: Bad_Name\n      ports: [{port: 80, protocol: udp}]\n"),
            (std::vector<std::string>{
                "control.yaml:3:13: mesh.services[0].name: 'Bad_Name' is not a valid name (lower case letters, "
                "digits, '-' and '.')",
                "control.yaml:4:36: mesh.services[0].ports[0].protocol: must be one of http, http2, grpc, tcp",
            }));
  EXPECT_EQ(errorsOf("mesh:\n  routes:\n    - name: r\n      rules: [{to: [{service: a}]}]\n"),
            (std::vector<std::string>{
                "control.yaml:3:7: mesh.routes[0]: needs exactly one of 'service' (traffic to a service) or "
                "'gateways'",
                "control.yaml:4:21: mesh.routes[0].rules[0].to[0].service: unknown service 'a' in namespace "
                "'default'",
            }));
  EXPECT_EQ(errorsOf("mesh:\n  policies:\n    peer_authentication: [{mode: strict}]\n"),
            (std::vector<std::string>{
                "control.yaml:3:34: mesh.policies.peer_authentication[0].mode: must be STRICT, PERMISSIVE or "
                "DISABLE",
            }));
}

TEST(MeshReader, AnAddressUsedTwiceIsAnError) {
  std::string yaml = kMesh;
  yaml.replace(yaml.find("address: 127.0.0.1:15301"), 24, "address: 127.0.0.1:15106");
  const auto errors = errorsOf(yaml);
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "control.yaml:23:11: mesh.workloads[2].outbound[0].address: address 127.0.0.1:15106 is already used by "
            "mesh.workloads[0].inbound[0].address");
}

TEST(MeshReader, DestinationSettingsAreReadBySluicesClusterReader) {
  const auto errors = errorsOf(
      "mesh:\n  services: [{name: a, ports: [{port: 80}]}]\n  policies:\n    destinations:\n"
      "      - {service: a, outlier_detection: {consecutive_5xx: -1}}\n");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("control.yaml:5:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("mesh.policies.destinations[0].outlier_detection.consecutive_5xx"), std::string::npos)
      << errors[0];
}

}  // namespace
}  // namespace sluice::control::mesh
