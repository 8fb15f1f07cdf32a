// The configs of captured workloads (`capture: true`, traffic redirected by
// `sluice iptables`): one inbound and one outbound listener that dispatch by
// the connection's original destination.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "control/control_config.h"
#include "control/mesh/proxy_config.h"
#include "tests/unit/control/mesh/mesh_test_support.h"

namespace sluice::control::mesh {
namespace {

using test::findListener;
using test::findProxy;

const std::string kGolden = std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/mesh/golden/captured_prod_web.yaml";

// Two captured workloads behind virtual IPs, as discovery from Kubernetes
// gives them, and a service outside the capture (no address).
const char* const kMesh = R"(mesh:
  trust_domain: cluster.local
  services:
    - name: web
      namespace: prod
      addresses: [10.96.0.10]
      ports: [{port: 80, protocol: http}]
      endpoints: [{address: 10.1.0.5:8080, workload: web}]
    - name: api
      namespace: prod
      addresses: [10.96.0.11, "fd00::11"]
      ports: [{port: 8080, protocol: http}, {port: 9090, protocol: grpc}, {port: 5432, protocol: tcp}]
      endpoints:
        - {address: 10.1.0.7:8080, workload: api, port: 8080}
        - {address: 10.1.0.7:9090, workload: api, port: 9090}
        - {address: 10.1.0.7:5432, workload: api, port: 5432}
    - name: legacy
      namespace: prod
      ports: [{port: 80}]
      endpoints: [{address: 192.0.2.10:80}]
  workloads:
    - {name: web, namespace: prod, capture: true, labels: {app: web}}
    - {name: api, namespace: prod, capture: true, labels: {app: api}}
  policies:
    peer_authentication:
      - {namespace: prod, mode: STRICT}
    authorization:
      - name: api-callers
        namespace: prod
        service: api
        ports: [8080]
        default_action: deny
        rules: [{name: web, action: allow, from: {service_accounts: [web]}}]
)";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const ControlConfig> load(const std::string& text) {
  const ControlLoadResult r = loadControlString(text, "control.yaml");
  EXPECT_TRUE(r.config) << r.errorText();
  return r.config;
}

TEST(CapturedConfig, ASidecarMatchesItsGoldenFile) {
  auto cfg = load(kMesh);
  ASSERT_TRUE(cfg);
  const ProxyConfig* web = findProxy(cfg->mesh_proxies, "sidecar/prod/web");
  ASSERT_TRUE(web && web->config);
  std::string text;
  for (size_t at = 0, nl; at < web->summary.size(); at = nl + 1) {
    nl = web->summary.find('\n', at);
    text += "# " + web->summary.substr(at, nl - at) + "\n";
  }
  text += web->yaml;
  if (std::getenv("SLUICE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden) << text;
    return;
  }
  EXPECT_EQ(readFile(kGolden), text) << "differs from " << kGolden << " (SLUICE_UPDATE_GOLDEN=1 rewrites it)";
}

TEST(CapturedConfig, OutboundDispatchesByServiceAddressAndPortThenPassesThrough) {
  auto cfg = load(kMesh);
  ASSERT_TRUE(cfg);
  const ProxyConfig* web = findProxy(cfg->mesh_proxies, "sidecar/prod/web");
  ASSERT_TRUE(web && web->config);
  const auto* out = findListener(*web->config, "outbound_capture");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->address.str(), "[::]:15001");
  EXPECT_TRUE(out->use_original_dst);
  // api's three ports, web's one, then the passthrough; legacy has no address.
  ASSERT_EQ(out->filter_chains.size(), 5u);
  const auto& api_http = out->filter_chains[1];
  EXPECT_EQ(api_http.match.destination_port, std::optional<uint16_t>(8080));
  ASSERT_EQ(api_http.match.prefix_ranges.size(), 2u);
  EXPECT_EQ(api_http.match.prefix_ranges[0].str(), "10.96.0.11/32");
  EXPECT_EQ(api_http.match.prefix_ranges[1].str(), "fd00::11/128");
  EXPECT_TRUE(out->filter_chains.back().match.empty());
  // Calls to api leave over mTLS verifying api's identity.
  const config::ClusterConfig* api = web->config->findCluster("outbound_8080__api.prod");
  ASSERT_TRUE(api && api->tls);
  EXPECT_EQ(api->tls->verify_spiffe_ids, std::vector<std::string>{"spiffe://cluster.local/ns/prod/sa/api"});
  const config::ClusterConfig* passthrough = web->config->findCluster("passthrough");
  ASSERT_TRUE(passthrough);
  EXPECT_EQ(passthrough->type, config::ClusterType::OriginalDst);
}

TEST(CapturedConfig, RegistryOnlyLeavesUnknownDestinationsNoChain) {
  std::string text = kMesh;
  text.replace(text.find("  services:"), 0,
               "  capture: {outbound_traffic_policy: REGISTRY_ONLY, outbound_port: 15101}\n");
  auto cfg = load(text);
  ASSERT_TRUE(cfg);
  const ProxyConfig* web = findProxy(cfg->mesh_proxies, "sidecar/prod/web");
  ASSERT_TRUE(web && web->config);
  const auto* out = findListener(*web->config, "outbound_capture");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->address.str(), "[::]:15101");
  EXPECT_EQ(out->filter_chains.size(), 4u);
  for (const auto& c : out->filter_chains) EXPECT_FALSE(c.match.empty());
  EXPECT_EQ(web->config->findCluster("passthrough"), nullptr);
}

TEST(CapturedConfig, InboundTakesTheServedPortsBehindMtlsWithTheirPolicies) {
  auto cfg = load(kMesh);
  ASSERT_TRUE(cfg);
  const ProxyConfig* api = findProxy(cfg->mesh_proxies, "sidecar/prod/api");
  ASSERT_TRUE(api && api->config);
  const auto* in = findListener(*api->config, "inbound_capture");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->address.str(), "[::]:15006");
  EXPECT_TRUE(in->use_original_dst);
  ASSERT_EQ(in->filter_chains.size(), 4u);  // 5432, 8080, 9090, any other port
  EXPECT_EQ(in->filter_chains[1].match.destination_port, std::optional<uint16_t>(8080));
  for (const auto& c : in->filter_chains) {
    ASSERT_TRUE(c.tls);
    EXPECT_TRUE(c.tls->require_client_cert);
    EXPECT_EQ(c.tls->validation_context, "ROOTCA");
  }
  // Only the 8080 chain is under the authorization policy (its `ports`).
  EXPECT_NE(api->summary.find("port 8080: api http, authz deny by default"), std::string::npos) << api->summary;
  EXPECT_NE(api->summary.find("port 9090: api grpc -> app at 127.0.0.1:9090"), std::string::npos) << api->summary;
  // A served port's app is on the pod's loopback; any other port's at its original destination.
  EXPECT_EQ(api->config->findCluster("inbound_9090_api")->type, config::ClusterType::Endpoints);
  EXPECT_NE(api->yaml.find("address: 127.0.0.1:9090"), std::string::npos) << api->yaml;
  EXPECT_EQ(api->config->findCluster("inbound_passthrough")->type, config::ClusterType::OriginalDst);
}

TEST(CapturedConfig, PermissiveIsATlsChainAndAPlaintextChainPerPort) {
  std::string text = kMesh;
  text.replace(text.find("mode: STRICT"), 12, "mode: PERMISSIVE");
  auto cfg = load(text);
  ASSERT_TRUE(cfg);
  const ProxyConfig* web = findProxy(cfg->mesh_proxies, "sidecar/prod/web");
  ASSERT_TRUE(web && web->config);
  const auto* in = findListener(*web->config, "inbound_capture");
  ASSERT_TRUE(in);
  ASSERT_EQ(in->filter_chains.size(), 4u);  // 8080 tls, 8080 plaintext, other tls, other plaintext
  EXPECT_TRUE(in->filter_chains[0].tls);
  EXPECT_EQ(in->filter_chains[0].match.transport_protocol, config::FilterChainMatch::Transport::Tls);
  EXPECT_FALSE(in->filter_chains[1].tls);
  EXPECT_EQ(in->filter_chains[1].match.transport_protocol, config::FilterChainMatch::Transport::RawBuffer);
}

TEST(CapturedConfig, BadAddressesAndCaptureSettingsAreErrorsAtTheirLine) {
  std::string text = kMesh;
  text.replace(text.find("[10.96.0.10]"), 12, "[10.96.0.0/16]");
  ControlLoadResult r = loadControlString(text, "control.yaml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.errorText().find("control.yaml:6:"), std::string::npos) << r.errorText();
  EXPECT_NE(r.errorText().find("mesh.services[0].addresses[0]"), std::string::npos) << r.errorText();

  text = kMesh;
  text.replace(text.find("[10.96.0.11,"), 12, "[10.96.0.10,");
  text.replace(text.find("{port: 8080, protocol: http}, {port: 9090"), 10, "{port: 80,");
  r = loadControlString(text, "control.yaml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.errorText().find("address 10.96.0.10 port 80 is also service 'prod/web'"), std::string::npos)
      << r.errorText();

  text = kMesh;
  text.replace(text.find("  services:"), 0, "  capture: {outbound_traffic_policy: DENY}\n");
  r = loadControlString(text, "control.yaml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.errorText().find("mesh.capture.outbound_traffic_policy: must be ALLOW_ANY or REGISTRY_ONLY"),
            std::string::npos)
      << r.errorText();
}

TEST(CapturedConfig, AnAddressChangeRecomputesTheCapturedSidecars) {
  auto before = load(kMesh);
  ASSERT_TRUE(before);
  ProxyConfigCache cache;
  config::ParseContext ctx("control.yaml");
  computeProxyConfigs(*before->mesh, "", ctx, &cache);
  std::string text = kMesh;
  text.replace(text.find("10.96.0.10"), 10, "10.96.0.20");
  auto after = load(text);
  ASSERT_TRUE(after);
  cache.computed = cache.reused = 0;
  computeProxyConfigs(*after->mesh, "", ctx, &cache);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(cache.computed, 2u);  // both call web
  EXPECT_EQ(cache.reused, 0u);
  // An unrelated edit (the legacy service, no address) recomputes nobody captured.
  text.replace(text.find("192.0.2.10:80"), 13, "192.0.2.11:80");
  auto third = load(text);
  ASSERT_TRUE(third);
  cache.computed = cache.reused = 0;
  computeProxyConfigs(*third->mesh, "", ctx, &cache);
  EXPECT_EQ(cache.computed, 0u);
  EXPECT_EQ(cache.reused, 2u);
}

}  // namespace
}  // namespace sluice::control::mesh
