// Fault injection in a mesh's route rules: `fault:` read by the fault
// filter's own reader at its mesh path, and handed on as the route's
// per_filter_config behind an inert fault filter in the chains that need it
// (a sidecar's outbound listener, a gateway's listener), and only there.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/route_config.h"
#include "control/control_config.h"
#include "control/mesh/proxy_config.h"
#include "filters/http/fault/config.h"
#include "filters/network/http/config.h"
#include "tests/unit/control/mesh/mesh_test_support.h"

namespace sluice::control::mesh {
namespace {

using test::findListener;
using test::findProxy;

const std::string kGolden =
    std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/mesh/golden/fault_gateway_default_edge.yaml";

// Line 1 is the first line after R"(.
const char* const kMesh = R"(mesh:
  services:
    - name: api
      ports: [{port: 8080}]
      endpoints: [{address: 127.0.0.1:15106, workload: api}]
    - name: pages
      ports: [{port: 8080}]
      endpoints: [{address: 127.0.0.1:15206, workload: pages}]
  workloads:
    - name: api
    - name: pages
    - name: web
      outbound:
        - {service: api, port: 8080, address: 127.0.0.1:15101}
        - {service: pages, port: 8080, address: 127.0.0.1:15102}
  gateways:
    - name: edge
      listeners: [{address: 127.0.0.1:8080}]
  routes:
    - name: api-routes
      service: api
      rules:
        - match: {prefix: /slow/}
          to: [{service: api}]
          fault: {delay: {fixed_delay: 2s, percentage: 10}}
        - to: [{service: api}]
    - name: edge-routes
      gateways: [edge]
      rules:
        - match: {prefix: /broken/}
          to: [{service: api}]
          fault: {abort: {http_status: 503, percentage: 100}}
        - to: [{service: pages}]
)";

// The names of an HTTP listener's filters (the router, always last, is not listed).
std::vector<std::string> httpFilters(const config::ListenerConfig& l) {
  std::vector<std::string> out;
  l.forEachFilter([&](const config::NetworkFilterEntry& f, const std::string&) {
    if (f.name == "http")
      for (const auto& h : static_cast<const filters::http_cm::Spec&>(*f.spec).http_filters) out.push_back(h.name);
  });
  return out;
}

const filters::fault::Spec* routeFault(const config::Config& c, std::string_view route_name) {
  for (const auto& rc : c.route_configs)
    for (const auto& vh : rc.spec->virtual_hosts)
      for (const auto& r : vh.routes)
        if (r.name == route_name)
          for (const auto& p : r.per_filter_config)
            if (p.name == "fault") return static_cast<const filters::fault::Spec*>(p.spec.get());
  return nullptr;
}

TEST(MeshRouteFaults, TheGatewayAndTheSidecarCarryEachRulesFault) {
  const ControlLoadResult r = loadControlString(kMesh, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* edge = findProxy(r.config->mesh_proxies, "gateway/default/edge");
  ASSERT_TRUE(edge && edge->config);
  const auto* gl = findListener(*edge->config, "gateway_http-0");
  ASSERT_TRUE(gl);
  EXPECT_EQ(httpFilters(*gl), (std::vector<std::string>{"fault"}));
  const auto* abort = routeFault(*edge->config, "edge-routes/0");
  ASSERT_TRUE(abort) << edge->yaml;
  EXPECT_EQ(abort->abort_status, 503u);
  EXPECT_EQ(abort->abort_percentage, 100u);
  EXPECT_EQ(routeFault(*edge->config, "edge-routes/1"), nullptr);
  EXPECT_NE(edge->summary.find("1 route set(s), fault injection on 1 route(s)"), std::string::npos) << edge->summary;

  const ProxyConfig* web = findProxy(r.config->mesh_proxies, "sidecar/default/web");
  ASSERT_TRUE(web && web->config);
  // Only the listener whose routes inject a fault has the filter.
  const auto* to_api = findListener(*web->config, "outbound_8080_api");
  const auto* to_pages = findListener(*web->config, "outbound_8080_pages");
  ASSERT_TRUE(to_api && to_pages);
  EXPECT_EQ(httpFilters(*to_api), (std::vector<std::string>{"fault"}));
  EXPECT_EQ(httpFilters(*to_pages), std::vector<std::string>{});
  const auto* delay = routeFault(*web->config, "api-routes/0");
  ASSERT_TRUE(delay) << web->yaml;
  EXPECT_EQ(delay->delay, std::chrono::seconds(2));
  EXPECT_EQ(delay->delay_percentage, 10u);
  EXPECT_EQ(delay->abort_status, 0u);
  EXPECT_NE(web->summary.find("127.0.0.1:15101  plaintext http from the app, fault injection on 1 route(s)"),
            std::string::npos)
      << web->summary;
}

TEST(MeshRouteFaults, TheEdgeMatchesItsGoldenFile) {
  const ControlLoadResult r = loadControlString(kMesh, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* edge = findProxy(r.config->mesh_proxies, "gateway/default/edge");
  ASSERT_TRUE(edge && edge->config);
  std::string text;
  for (size_t at = 0, nl; at < edge->summary.size(); at = nl + 1) {
    nl = edge->summary.find('\n', at);
    text += "# " + edge->summary.substr(at, nl - at) + "\n";
  }
  text += edge->yaml;
  if (std::getenv("SLUICE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden) << text;
    return;
  }
  std::ifstream in(kGolden);
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(golden.str(), text) << "differs from " << kGolden << " (SLUICE_UPDATE_GOLDEN=1 rewrites it)";
}

// Without a fault anywhere, no chain has the filter (the example mesh's
// golden files hold that too).
TEST(MeshRouteFaults, NoFaultNoFilter) {
  std::string yaml = kMesh;
  const std::string line = "          fault: {delay: {fixed_delay: 2s, percentage: 10}}\n";
  yaml.replace(yaml.find(line), line.size(), "");
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* web = findProxy(r.config->mesh_proxies, "sidecar/default/web");
  ASSERT_TRUE(web && web->config);
  EXPECT_EQ(httpFilters(*findListener(*web->config, "outbound_8080_api")), std::vector<std::string>{});
  EXPECT_EQ(web->yaml.find("- fault:"), std::string::npos) << web->yaml;
  EXPECT_EQ(web->yaml.find("per_filter_config"), std::string::npos) << web->yaml;
}

TEST(MeshRouteFaults, MistakesAreNamedAtTheirLineAndMeshPath) {
  std::string yaml = kMesh;
  yaml.replace(yaml.find("fixed_delay: 2s, percentage: 10"), 31, "fixed_delay: 2q, percentage: 101");
  yaml.replace(yaml.find("http_status: 503"), 16, "http_status: 700");
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  ASSERT_FALSE(r.config);
  const std::vector<std::string> errors = test::errorLines(r);
  ASSERT_EQ(errors.size(), 3u) << r.errorText();
  EXPECT_EQ(errors[0].rfind("control.yaml:25:", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("mesh.routes[0].rules[0].fault.delay.fixed_delay"), std::string::npos) << errors[0];
  EXPECT_EQ(errors[1].rfind("control.yaml:25:", 0), 0u) << errors[1];
  EXPECT_NE(errors[1].find("mesh.routes[0].rules[0].fault.delay.percentage"), std::string::npos) << errors[1];
  EXPECT_EQ(errors[2].rfind("control.yaml:32:", 0), 0u) << errors[2];
  EXPECT_NE(errors[2].find("mesh.routes[1].rules[0].fault.abort.http_status"), std::string::npos) << errors[2];

  std::string empty = kMesh;
  empty.replace(empty.find("{delay: {fixed_delay: 2s, percentage: 10}}"), 42, "{}");
  const ControlLoadResult e = loadControlString(empty, "control.yaml");
  ASSERT_FALSE(e.config);
  ASSERT_EQ(e.errors.size(), 1u) << e.errorText();
  EXPECT_EQ(e.errors[0].str(),
            "control.yaml:25:18: mesh.routes[0].rules[0].fault: a route's fault needs a delay, an abort, or both");
}

}  // namespace
}  // namespace sluice::control::mesh
