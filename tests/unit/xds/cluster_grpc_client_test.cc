// What sluice-control serves a proxyless gRPC client must pass that client's
// own checks: our Clusters and ClusterLoadAssignments decoded by the xDS
// client of @grpc/grpc-js-xds (tests/unit/xds/cluster_grpc_check.js), the
// same code a Node gRPC client runs on a CDS or EDS response.
#include <unistd.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config/loader.h"
#include "xds/cluster_translate.h"
#include "xds/type_urls.h"

namespace sluice::xds {
namespace {

const std::string kModules = std::string(SLUICE_SOURCE_DIR) + "/.npm-deps/node_modules";

// Each message serialized to a file; node's lines ("ok name" / "error name: why").
// `providers`: the certificate provider instances the client's bootstrap names (comma-separated).
std::vector<std::string> grpcCheck(std::string_view type_url, const std::vector<const google::protobuf::Message*>& msgs,
                                   const std::string& providers = "") {
  std::string cmd = "env NODE_PATH='" + kModules + "' GRPC_CHECK_CERT_PROVIDERS='" + providers +
                    "' timeout 60 node '" + SLUICE_SOURCE_DIR +
                    "/tests/unit/xds/cluster_grpc_check.js' '" + std::string(type_url) + "'";
  for (size_t i = 0; i < msgs.size(); ++i) {
    const std::string path = ::testing::TempDir() + "/grpc_check_" + std::to_string(::getpid()) + "_" + std::to_string(i) + ".bin";
    std::ofstream(path, std::ios::binary) << msgs[i]->SerializeAsString();
    cmd += " '" + path + "'";
  }
  cmd += " 2>&1";
  std::vector<std::string> lines;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return lines;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(line);
  }
  ::pclose(p);
  return lines;
}

bool haveGrpcJsXds() { return std::ifstream(kModules + "/@grpc/grpc-js-xds/package.json").good(); }

// The policies and settings a gRPC client takes: round_robin and ring_hash
// (least_request, random and maglev have no gRPC implementation; SDS-named
// TLS neither: gRPC wants certificate providers).
constexpr const char* kYaml = R"(clusters:
  - name: rr
    outlier_detection:
      consecutive_5xx: 3
      success_rate: {}
      failure_percentage: {threshold: 60}
    circuit_breakers: {max_requests: 50}
    health_check: {interval: 1s, timeout: 1s, http: {path: /h}}
    protocol: http2
    endpoints:
      - {address: 127.0.0.1:1001, weight: 3}
      - {address: "[::1]:1002", priority: 2}
  - name: ring
    lb_policy: ring_hash
    ring_hash: {minimum_ring_size: 64, maximum_ring_size: 4096}
    endpoints: [{address: 10.0.0.1:80}, {address: 10.0.0.2:80, priority: 1}]
)";

TEST(ClusterGrpcClient, TakesOurClustersAndEndpoints) {
  if (!haveGrpcJsXds()) GTEST_SKIP() << "@grpc/grpc-js-xds is not installed (scripts/install-deps)";
  const auto r = config::loadString(kYaml, "t.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  std::vector<envoy_cluster::Cluster> clusters(r.config->clusters.size());
  std::vector<envoy_endpoint::ClusterLoadAssignment> assignments(r.config->clusters.size());
  std::vector<const google::protobuf::Message*> cds, eds;
  for (size_t i = 0; i < clusters.size(); ++i) {
    const auto& c = r.config->clusters[i];
    clusterToEnvoy(c, clusters[i]);
    loadAssignmentToEnvoy(*r.config->findLoadAssignment(c.load_assignment), c.overprovisioning_factor_percent,
                          assignments[i]);
    cds.push_back(&clusters[i]);
    eds.push_back(&assignments[i]);
  }
  EXPECT_EQ(grpcCheck(kClusterType, cds), (std::vector<std::string>{"ok rr", "ok ring"}));
  EXPECT_EQ(grpcCheck(kClusterLoadAssignmentType, eds), (std::vector<std::string>{"ok rr", "ok ring"}));
}

// mTLS for a gRPC client: certificate provider instances its bootstrap
// names, SPIFFE checks in the SAN list it reads. An instance its bootstrap
// lacks is refused, so the check sees the TLS context.
TEST(ClusterGrpcClient, TakesCertificateProviderInstances) {
  if (!haveGrpcJsXds()) GTEST_SKIP() << "@grpc/grpc-js-xds is not installed (scripts/install-deps)";
  config::ClusterConfig c;
  c.name = c.load_assignment = "echo";
  c.protocol = config::UpstreamProtocol::Http2;
  c.tls.emplace();
  c.tls->ca_certificate_provider_instance = "roots";
  c.tls->certificate_provider_instance = "identity";
  c.tls->verify_spiffe_ids = {"spiffe://td/ns/default/sa/echo", "spiffe://td/ns/echo/*"};
  c.tls->alpn = {"h2"};
  envoy_cluster::Cluster cluster;
  clusterToEnvoy(c, cluster);
  EXPECT_EQ(grpcCheck(kClusterType, {&cluster}, "roots,identity"), (std::vector<std::string>{"ok echo"}));
  const auto missing = grpcCheck(kClusterType, {&cluster}, "roots");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("Unmatched UpstreamTlsContext.tls_certificate_provider_instance.instance_name: identity"),
            std::string::npos)
      << missing[0];
  // SDS names, what Sluice takes, are not for gRPC.
  c.tls = config::UpstreamTlsConfig{};
  c.tls->validation_context = "ROOTCA";
  clusterToEnvoy(c, cluster);
  const auto sds = grpcCheck(kClusterType, {&cluster}, "roots,identity");
  ASSERT_EQ(sds.size(), 1u);
  EXPECT_EQ(sds[0].rfind("error echo: ", 0), 0u) << sds[0];
}

// The check can fail: what gRPC refuses is reported as such.
TEST(ClusterGrpcClient, RefusesWhatGrpcCannotTake) {
  if (!haveGrpcJsXds()) GTEST_SKIP() << "@grpc/grpc-js-xds is not installed (scripts/install-deps)";
  envoy_cluster::Cluster maglev;
  maglev.set_name("m");
  maglev.set_type(envoy_cluster::Cluster::EDS);
  maglev.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  maglev.set_lb_policy(envoy_cluster::Cluster::MAGLEV);
  envoy_endpoint::ClusterLoadAssignment gap;
  gap.set_cluster_name("g");
  auto* level = gap.add_endpoints();
  level->set_priority(1);
  level->mutable_locality();
  const auto cds = grpcCheck(kClusterType, {&maglev});
  ASSERT_EQ(cds.size(), 1u);
  EXPECT_EQ(cds[0].rfind("error m: ", 0), 0u) << cds[0];
  const auto eds = grpcCheck(kClusterLoadAssignmentType, {&gap});
  ASSERT_EQ(eds.size(), 1u);
  EXPECT_NE(eds[0].find("priority 1 but not 0"), std::string::npos) << eds[0];
}

}  // namespace
}  // namespace sluice::xds
