// Each proxy's computed config: the readable document (golden files, one
// per proxy of the example mesh) and what it means once read (TLS, authz,
// subsets, identities).
//
// SLUICE_UPDATE_GOLDEN=1 rewrites the golden files from the current output;
// read the diff before committing it.

#include "control/mesh/proxy_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/route_config.h"
#include "control/control_config.h"
#include "tests/unit/control/mesh/mesh_test_support.h"

namespace sluice::control::mesh {
namespace {

using test::findProxy;

const std::string kGoldenDir = std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/mesh/golden/";

std::shared_ptr<const ControlConfig> exampleMesh() {
  ::setenv("SLUICE_MESH_STATE", "/tmp", 1);
  const ControlLoadResult r = loadControlFile(std::string(SLUICE_SOURCE_DIR) + "/config/examples/mesh/control.yaml");
  EXPECT_TRUE(r.config) << r.errorText();
  return r.config;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ProxyConfig, EachProxyOfTheExampleMatchesItsGoldenFile) {
  auto cfg = exampleMesh();
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->mesh_proxies.size(), 5u);
  const bool update = std::getenv("SLUICE_UPDATE_GOLDEN") != nullptr;
  for (const auto& p : cfg->mesh_proxies) {
    ASSERT_TRUE(p.config) << p.group;
    std::string file = p.group;
    for (char& c : file)
      if (c == '/') c = '_';
    const std::string path = kGoldenDir + file + ".yaml";
    std::string text;
    for (size_t at = 0, nl; at < p.summary.size(); at = nl + 1) {
      nl = p.summary.find('\n', at);
      text += "# " + p.summary.substr(at, nl - at) + "\n";
    }
    text += p.yaml;
    if (update) {
      std::ofstream(path) << text;
      continue;
    }
    EXPECT_EQ(readFile(path), text) << "differs from " << path << " (SLUICE_UPDATE_GOLDEN=1 rewrites it)";
  }
}

TEST(ProxyConfig, StrictInboundTakesOnlyMeshCertificatesAndChecksCallers) {
  auto cfg = exampleMesh();
  ASSERT_TRUE(cfg);
  const ProxyConfig* v1 = findProxy(cfg->mesh_proxies, "sidecar/default/backend-v1");
  ASSERT_TRUE(v1 && v1->config);
  EXPECT_EQ(v1->node_id, "backend-v1.default");
  EXPECT_EQ(v1->identity, "spiffe://demo.mesh/ns/default/sa/backend");
  const config::ListenerConfig* in = nullptr;
  for (const auto& l : v1->config->listeners)
    if (l.name == "inbound_8080_backend") in = &l;
  ASSERT_TRUE(in);
  EXPECT_EQ(in->address.str(), "127.0.0.1:15106");
  ASSERT_TRUE(in->tls);
  EXPECT_EQ(in->tls->mode, config::DownstreamTlsConfig::Mode::Strict);
  EXPECT_TRUE(in->tls->require_client_cert);
  EXPECT_EQ(in->tls->certificates, std::vector<std::string>{"default"});
  EXPECT_EQ(in->tls->validation_context, "ROOTCA");
  // The app behind it is plain HTTP on loopback.
  const config::ClusterConfig* app = v1->config->findCluster("inbound_8080_backend");
  ASSERT_TRUE(app);
  EXPECT_FALSE(app->tls);
  // Only edge and frontend, by their SPIFFE IDs.
  EXPECT_NE(v1->yaml.find("spiffe://demo.mesh/ns/default/sa/edge"), std::string::npos);
  EXPECT_NE(v1->yaml.find("spiffe://demo.mesh/ns/default/sa/frontend"), std::string::npos);
  EXPECT_NE(v1->yaml.find("default_action: deny"), std::string::npos);
}

TEST(ProxyConfig, TheEdgeSplitsToSubsetClustersThatVerifyTheirIdentities) {
  auto cfg = exampleMesh();
  ASSERT_TRUE(cfg);
  const ProxyConfig* edge = findProxy(cfg->mesh_proxies, "gateway/default/edge");
  ASSERT_TRUE(edge && edge->config);
  const config::ClusterConfig* v1 = edge->config->findCluster("outbound_8080_version-v1_backend.default");
  const config::ClusterConfig* v2 = edge->config->findCluster("outbound_8080_version-v2_backend.default");
  ASSERT_TRUE(v1 && v2);
  ASSERT_TRUE(v1->tls);
  EXPECT_EQ(v1->tls->certificate, "default");
  EXPECT_EQ(v1->tls->validation_context, "ROOTCA");
  EXPECT_EQ(v1->tls->verify_spiffe_ids, std::vector<std::string>{"spiffe://demo.mesh/ns/default/sa/backend"});
  // Each subset holds its version's endpoint only.
  const auto* la1 = edge->config->findLoadAssignment(v1->name);
  const auto* la2 = edge->config->findLoadAssignment(v2->name);
  ASSERT_TRUE(la1 && la2);
  ASSERT_EQ(la1->endpoints.size(), 1u);
  EXPECT_EQ(la1->endpoints[0].address.str(), "127.0.0.1:15106");
  ASSERT_EQ(la2->endpoints.size(), 1u);
  EXPECT_EQ(la2->endpoints[0].address.str(), "127.0.0.1:15206");
  // The destination policy reached the clusters.
  EXPECT_EQ(v1->outlier_detection ? v1->outlier_detection->consecutive_5xx : 0u, 5u);
}

TEST(ProxyConfig, PeerAuthenticationDecidesBothEnds) {
  auto cfg = exampleMesh();
  ASSERT_TRUE(cfg);
  Mesh m = *cfg->mesh;
  m.peer_authentication = {PeerAuthentication{"default", "backend-v2", MtlsMode::Disable, {}},
                           PeerAuthentication{"default", "backend-v1", MtlsMode::Permissive, {}}};
  config::ParseContext ctx("control.yaml");
  const auto proxies = computeProxyConfigs(m, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n", ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  const ProxyConfig* v1 = findProxy(proxies, "sidecar/default/backend-v1");
  const ProxyConfig* v2 = findProxy(proxies, "sidecar/default/backend-v2");
  const ProxyConfig* edge = findProxy(proxies, "gateway/default/edge");
  ASSERT_TRUE(v1 && v2 && edge);
  EXPECT_EQ(v1->config->listeners[0].tls->mode, config::DownstreamTlsConfig::Mode::Permissive);
  EXPECT_FALSE(v2->config->listeners[0].tls);  // DISABLE: plaintext in
  // ... so callers of v2 speak plaintext to it, and mTLS to v1.
  EXPECT_FALSE(edge->config->findCluster("outbound_8080_version-v2_backend.default")->tls);
  EXPECT_TRUE(edge->config->findCluster("outbound_8080_version-v1_backend.default")->tls);
  // The trust bundle travels as an inline secret.
  const config::SecretSpec* root = edge->config->findSecret("ROOTCA");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->inline_pem);
  EXPECT_NE(root->trusted_ca.find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST(ProxyConfig, SeveralPoliciesOnOneWorkloadMergeDenyFirst) {
  auto cfg = exampleMesh();
  ASSERT_TRUE(cfg);
  Mesh m = *cfg->mesh;
  AuthorizationPolicy extra;
  extra.name = "no-admin";
  extra.workload = "backend-v1";
  extra.policy = YAML::Load("{rules: [{name: admin, action: deny, paths: [{prefix: /admin}]}]}");
  m.authorization.push_back(extra);
  config::ParseContext ctx("control.yaml");
  const auto proxies = computeProxyConfigs(m, "", ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  const ProxyConfig* v1 = findProxy(proxies, "sidecar/default/backend-v1");
  ASSERT_TRUE(v1 && v1->config);
  const size_t deny = v1->yaml.find("name: no-admin/admin");
  const size_t allow = v1->yaml.find("name: backend-callers/edge-and-frontend");
  ASSERT_NE(deny, std::string::npos) << v1->yaml;
  ASSERT_NE(allow, std::string::npos) << v1->yaml;
  EXPECT_LT(deny, allow);
  EXPECT_NE(v1->yaml.find("default_action: deny"), std::string::npos);
  // v2 has only the service-wide policy.
  EXPECT_EQ(findProxy(proxies, "sidecar/default/backend-v2")->yaml.find("no-admin"), std::string::npos);
}

}  // namespace
}  // namespace sluice::control::mesh

namespace sluice::control::mesh {
namespace {

// What a reload recomputes: only the proxies that read the part it changed.
TEST(ProxyConfigCache, AnEditRecomputesOnlyTheProxiesThatReadWhatChanged) {
  ::setenv("SLUICE_MESH_STATE", "/tmp", 1);
  const std::string text = readFile(std::string(SLUICE_SOURCE_DIR) + "/config/examples/mesh/control.yaml");
  ProxyConfigCache cache;
  auto load = [&](const std::string& t) {
    const ControlLoadResult r = loadControlString(t, "control.yaml", &cache);
    EXPECT_TRUE(r.config) << r.errorText();
    return r.config;
  };
  auto first = load(text);
  EXPECT_EQ(cache.computed, 5u);
  EXPECT_EQ(cache.reused, 0u);
  auto same = load(text);
  EXPECT_EQ(cache.computed, 5u);
  EXPECT_EQ(cache.reused, 5u);
  // The edge's split: only the edge reads that route set.
  std::string split = text;
  split.replace(split.find("weight: 90"), 10, "weight: 50");
  auto edited = load(split);
  EXPECT_EQ(cache.computed, 6u);
  EXPECT_EQ(cache.reused, 9u);
  const ProxyConfig* edge = findProxy(edited->mesh_proxies, "gateway/default/edge");
  ASSERT_TRUE(edge);
  EXPECT_NE(edge->yaml.find("weight: 50"), std::string::npos);
  // backend-v1's labels: itself, and everyone who calls the backend (the
  // edge, the frontend, the stranger); not backend-v2.
  std::string labels = split;
  labels.replace(labels.find("labels: {app: backend, version: v1}"), 35, "labels: {app: backend, version: v9}");
  auto relabeled = load(labels);
  EXPECT_EQ(cache.computed, 10u);
  EXPECT_EQ(cache.reused, 10u);
  // A reused proxy is the same config object: the snapshot builder sees no change.
  EXPECT_EQ(findProxy(relabeled->mesh_proxies, "sidecar/default/backend-v2")->config,
            findProxy(first->mesh_proxies, "sidecar/default/backend-v2")->config);
}

}  // namespace
}  // namespace sluice::control::mesh

namespace sluice::control::mesh {
namespace {

const char* const kPolicies = R"(mesh:
  services:
    - name: api
      ports: [{port: 8080}, {port: 9090, protocol: grpc}]
      endpoints: [{address: 127.0.0.1:15001, workload: api}]
  workloads:
    - name: api
      inbound:
        - {service: api, port: 8080, address: 127.0.0.1:15001, app: 127.0.0.1:18001}
        - {service: api, port: 9090, address: 127.0.0.1:15002, app: 127.0.0.1:18002}
  policies:
    authorization:
      - name: only-web
        service: api
        ports: [8080]
        default_action: deny
        rules: [{name: ops, action: allow, from: {namespaces: [ops]}}]
    rate_limits:
      - name: api-limit
        workload: api
        local_ratelimit: {token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 1s}}
)";

TEST(MeshPolicies, RateLimitsJoinTheInboundChainAndAuthorizationKeepsToItsPorts) {
  const ControlLoadResult r = loadControlString(kPolicies, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* api = findProxy(r.config->mesh_proxies, "sidecar/default/api");
  ASSERT_TRUE(api && api->config);
  EXPECT_NE(api->summary.find("inbound_8080_api  127.0.0.1:15001  http, mTLS STRICT, authz deny by default, "
                              "local_ratelimit api-limit"),
            std::string::npos)
      << api->summary;
  // The grpc port is not named by the authorization policy: no authz there.
  EXPECT_NE(api->summary.find("inbound_9090_api  127.0.0.1:15002  grpc, mTLS STRICT, local_ratelimit api-limit"),
            std::string::npos)
      << api->summary;
  EXPECT_NE(api->yaml.find("stat_prefix: api-limit"), std::string::npos) << api->yaml;
  EXPECT_NE(api->yaml.find("max_tokens: 5"), std::string::npos) << api->yaml;
}

TEST(MeshPolicies, ARateLimitIsCheckedByTheFiltersOwnReader) {
  std::string yaml = kPolicies;
  yaml.replace(yaml.find("max_tokens: 5,"), 14, "max_tokens: 0,");
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u) << r.errorText();
  EXPECT_EQ(r.errors[0].path, "mesh.policies.rate_limits[0].local_ratelimit.token_bucket.max_tokens");
  EXPECT_EQ(r.errors[0].line, 21);
}

}  // namespace
}  // namespace sluice::control::mesh

namespace sluice::control::mesh {
namespace {

// Route sets live in a namespace: they route that namespace's service, and
// their destinations are in it unless they name another.
TEST(MeshRoutes, ARouteSetRoutesItsNamespacesServiceAndMayCrossToAnother) {
  const char* const text = R"(mesh:
  services:
    - {name: api, namespace: prod, ports: [{port: 8080}], endpoints: [{address: 127.0.0.1:15106, workload: api}]}
    - {name: api, ports: [{port: 8080}], endpoints: [{address: 127.0.0.1:15206}]}
    - {name: shared, namespace: infra, ports: [{port: 9000}], endpoints: [{address: 127.0.0.1:15306}]}
  workloads:
    - name: api
      namespace: prod
    - name: web
      namespace: prod
      outbound: [{service: api, port: 8080, address: 127.0.0.1:15101}]
  routes:
    - name: api-routes
      namespace: prod
      service: api
      rules:
        - {match: {prefix: /shared/}, to: [{service: shared, namespace: infra}]}
        - {to: [{service: api}]}
)";
  const ControlLoadResult r = loadControlString(text, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* web = findProxy(r.config->mesh_proxies, "sidecar/prod/web");
  ASSERT_TRUE(web && web->config);
  EXPECT_TRUE(web->config->findCluster("outbound_9000__shared.infra")) << web->yaml;
  EXPECT_TRUE(web->config->findCluster("outbound_8080__api.prod")) << web->yaml;
  EXPECT_FALSE(web->config->findCluster("outbound_8080__api.default")) << web->yaml;

  std::string bad = text;
  bad.replace(bad.find("namespace: infra}"), std::string("namespace: infra}").size(), "namespace: prod}");
  const ControlLoadResult e = loadControlString(bad, "control.yaml");
  ASSERT_FALSE(e.config);
  EXPECT_NE(e.errorText().find("unknown service 'shared' in namespace 'prod'"), std::string::npos) << e.errorText();
}

}  // namespace
}  // namespace sluice::control::mesh
