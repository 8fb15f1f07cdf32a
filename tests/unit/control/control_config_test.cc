// control.yaml: a good file, the example, and each kind of error with its
// exact file:line:col: path: message, as sluice's own loader words them.

#include "control/control_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/route_config.h"

namespace sluice::control {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> errorsOf(const std::string& yaml) {
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  EXPECT_EQ(r.config == nullptr, !r.errors.empty()) << "config must be all or nothing";
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

// Raw strings start right after R"( so that line 1 is the first YAML line.
const char* const kGood = R"(ads: {address: 127.0.0.1:25010}
admin: {address: 127.0.0.1:25000}
debounce: 50ms
watch_interval: 1s
groups:
  - name: edge
    match: {cluster: edge}
    listeners:
      - name: web
        address: 127.0.0.1:10000
        http:
          route_config_name: main
    route_configs:
      - name: main
        virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}]
    clusters:
      - name: backend
        endpoints:
          - address: 127.0.0.1:18091
  - name: pinned
    match: {node_ids: [a-1, a-2]}
    clusters:
      - name: backend
        endpoints:
          - address: 127.0.0.1:18092
)";

TEST(ControlConfigTest, ReadsEveryFieldAndEachGroupAsAConfig) {
  const ControlLoadResult r = loadControlString(kGood, "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ControlConfig& c = *r.config;
  EXPECT_EQ(c.ads_address, "127.0.0.1:25010");
  EXPECT_EQ(c.admin_address, "127.0.0.1:25000");
  EXPECT_EQ(c.debounce, 50ms);
  EXPECT_EQ(c.watch_interval, 1s);
  ASSERT_EQ(c.groups.size(), 2u);
  const GroupSpec& edge = c.groups[0];
  EXPECT_EQ(edge.name, "edge");
  EXPECT_EQ(edge.match.cluster, "edge");
  ASSERT_TRUE(edge.config);
  ASSERT_EQ(edge.config->listeners.size(), 1u);
  EXPECT_EQ(edge.config->listeners[0].name, "web");
  ASSERT_EQ(edge.config->route_configs.size(), 1u);
  EXPECT_EQ(edge.config->route_configs[0].path, "groups[0].route_configs[0]");
  ASSERT_EQ(edge.config->clusters.size(), 1u);
  ASSERT_EQ(edge.config->endpointsOf(edge.config->clusters[0]).size(), 1u);
  EXPECT_EQ(edge.config->endpointsOf(edge.config->clusters[0])[0].address.str(), "127.0.0.1:18091");
  const GroupSpec& pinned = c.groups[1];
  EXPECT_EQ(pinned.match.node_ids, (std::vector<std::string>{"a-1", "a-2"}));
  EXPECT_TRUE(pinned.config->listeners.empty());
}

TEST(ControlConfigTest, DefaultsWhenOnlyGroupsAreGiven) {
  const ControlLoadResult r = loadControlString("groups: []\n", "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->ads_address, "127.0.0.1:15010");
  EXPECT_EQ(r.config->admin_address, "127.0.0.1:15000");
  EXPECT_EQ(r.config->debounce, 100ms);
  EXPECT_EQ(r.config->watch_interval, 200ms);
}

TEST(ControlConfigTest, FirstMatchingGroupWins) {
  const ControlLoadResult r = loadControlString(R"(groups:
  - {name: by-id, match: {node_ids: [n1]}}
  - {name: by-cluster, match: {cluster: edge}}
)");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->groupFor("n1", "edge"), "by-id");
  EXPECT_EQ(r.config->groupFor("n2", "edge"), "by-cluster");
  EXPECT_EQ(r.config->groupFor("n2", "other"), "");
  EXPECT_EQ(r.config->groupFor("n1", ""), "by-id");
}

TEST(ControlConfigTest, TheExampleLoads) {
  const ControlLoadResult r = loadControlFile(std::string(SLUICE_SOURCE_DIR) + "/config/examples/xds/control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const ControlConfig& c = *r.config;
  EXPECT_EQ(c.ads_address, "127.0.0.1:15010");
  EXPECT_EQ(c.admin_address, "127.0.0.1:15000");
  ASSERT_EQ(c.groups.size(), 2u);

  const config::Config& edge = *c.groups[0].config;
  EXPECT_EQ(c.groups[0].name, "edge");
  EXPECT_EQ(c.groupFor("any", "edge"), "edge");
  ASSERT_EQ(edge.listeners.size(), 1u);
  EXPECT_EQ(edge.listeners[0].address.str(), "127.0.0.1:10000");
  const auto* backend = edge.findCluster("backend");
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->lb_policy, config::LbPolicy::RoundRobin);
  const auto& eps = edge.endpointsOf(*backend);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].address.str(), "127.0.0.1:18091");
  EXPECT_EQ(eps[1].address.str(), "127.0.0.1:18092");
  const auto* table = edge.findRouteConfig(edge.route_configs.at(0).name);
  ASSERT_TRUE(table && table->spec);
  EXPECT_EQ(table->spec->virtual_hosts.at(0).routes.at(0).route->cluster, "backend");

  const config::Config& grpc = *c.groups[1].config;
  EXPECT_EQ(c.groups[1].name, "grpc");
  EXPECT_EQ(c.groupFor("any", "grpc"), "grpc");
  EXPECT_TRUE(grpc.listeners.empty());
  const auto* routes = grpc.findRouteConfig("echo");
  ASSERT_TRUE(routes && routes->spec);
  EXPECT_EQ(routes->spec->virtual_hosts.at(0).domains, (std::vector<std::string>{"echo"}));
  const auto* echo = grpc.findCluster("echo");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->protocol, config::UpstreamProtocol::Http2);
  ASSERT_EQ(grpc.endpointsOf(*echo).size(), 1u);
  EXPECT_EQ(grpc.endpointsOf(*echo)[0].address.str(), "127.0.0.1:18090");
}

TEST(ControlConfigTest, SyntaxErrorHasItsPosition) {
  EXPECT_EQ(errorsOf("groups:\n  - name: [a\n"),
            (std::vector<std::string>{"control.yaml:3:1: end of sequence flow not found"}));
}

TEST(ControlConfigTest, ResourceFieldErrorsCarryTheGroupPath) {
  EXPECT_EQ(errorsOf(R"(groups:
  - name: edge
    match: {cluster: edge}
    clusters:
      - name: a
        endpoints: [{address: 127.0.0.1:1}]
      - name: b
        endpoints:
          - address: 127.0.0.1:99999
)"),
            (std::vector<std::string>{
                "control.yaml:9:22: groups[0].clusters[1].endpoints[0].address: port out of range"}));
}

// What proxyless gRPC clients take for mTLS (their bootstrap's certificate
// provider instances), which a sluice file refuses, a group serves.
TEST(ControlConfigTest, AGroupClusterNamesCertificateProviderInstances) {
  const ControlLoadResult r = loadControlString(R"(groups:
  - name: grpc
    match: {cluster: grpc}
    clusters:
      - name: echo
        protocol: http2
        tls:
          ca_certificate_provider_instance: mesh
          certificate_provider_instance: mesh
          verify_spiffe_ids: [spiffe://td/ns/default/sa/echo]
        endpoints: [{address: 127.0.0.1:1}]
)", "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const config::UpstreamTlsConfig& t = *r.config->groups[0].config->clusters[0].tls;
  EXPECT_EQ(t.ca_certificate_provider_instance, "mesh");
  EXPECT_EQ(t.certificate_provider_instance, "mesh");
  EXPECT_EQ(t.validation_context, "");
  EXPECT_EQ(t.certificate, "");
  EXPECT_EQ(errorsOf(R"(groups:
  - name: grpc
    match: {cluster: grpc}
    clusters:
      - name: echo
        tls: {certificate_provider_instance: mesh, ca_bundle: /dev/null}
        endpoints: [{address: 127.0.0.1:1}]
)"),
            (std::vector<std::string>{
                "control.yaml:6:46: groups[0].clusters[0].tls.certificate_provider_instance: "
                "certificate_provider_instance needs ca_certificate_provider_instance: a gRPC client verifies the "
                "server only against a provider's roots",
                "control.yaml:6:63: groups[0].clusters[0].tls.ca_bundle: give either certificate provider "
                "instances (for proxyless gRPC clients) or secrets, not both"}));
}

TEST(ControlConfigTest, CrossReferenceErrorsCarryTheGroupPath) {
  // The listener's table names a cluster of the other group: a group is a
  // whole config of its own.
  EXPECT_EQ(errorsOf(R"(groups:
  - name: a
    match: {cluster: a}
    clusters: [{name: shared, endpoints: [{address: 127.0.0.1:1}]}]
  - name: b
    match: {cluster: b}
    listeners:
      - name: web
        address: 127.0.0.1:10000
        http:
          route_config:
            virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: shared}}]}]
      - name: tcp
        address: 127.0.0.1:10001
        tcp_proxy: {cluster: shared}
)"),
            (std::vector<std::string>{"control.yaml:12:102: groups[1].listeners[0].http.route_config.virtual_hosts[0]"
                                      ".routes[0].route.cluster: unknown cluster 'shared'",
                                      "control.yaml:15:30: groups[1].listeners[1].tcp_proxy.cluster: unknown cluster 'shared'"}));
}

TEST(ControlConfigTest, UnknownKeysAreErrorsAtEveryLevel) {
  EXPECT_EQ(errorsOf(R"(ads: {address: 127.0.0.1:1, port: 2}
debounse: 1s
groups:
  - name: edge
    match: {cluster: edge, zone: z}
    clustres: []
)"),
            (std::vector<std::string>{
                "control.yaml:1:29: ads: unknown field 'port'",
                "control.yaml:2:1: unknown field 'debounse'; did you mean 'debounce'?",
                "control.yaml:5:28: groups[0].match: unknown field 'zone'",
                "control.yaml:6:5: groups[0]: unknown field 'clustres'; did you mean 'clusters'?",
            }));
}

TEST(ControlConfigTest, DuplicateGroupNamesAreErrors) {
  EXPECT_EQ(errorsOf(R"(groups:
  - {name: edge, match: {cluster: a}}
  - {name: edge, match: {cluster: b}}
)"),
            (std::vector<std::string>{
                "control.yaml:3:12: groups[1].name: duplicate group name 'edge' (first in groups[0])"}));
}

TEST(ControlConfigTest, MatchNeedsExactlyOneWay) {
  EXPECT_EQ(errorsOf(R"(groups:
  - {name: a}
  - {name: b, match: {}}
  - {name: c, match: {cluster: c, node_ids: [x]}}
  - {name: d, match: {node_ids: []}}
)"),
            (std::vector<std::string>{
                "control.yaml:2:5: groups[0].match: missing required field",
                "control.yaml:3:22: groups[1].match: needs exactly one of 'cluster' or 'node_ids'",
                "control.yaml:4:22: groups[2].match: needs exactly one of 'cluster' or 'node_ids'",
                "control.yaml:5:33: groups[3].match.node_ids: needs at least one node id",
            }));
}

TEST(ControlConfigTest, TopLevelValueErrors) {
  EXPECT_EQ(errorsOf(R"(ads: {address: localhost}
admin: {}
debounce: soon
watch_interval: 0
groups: {}
)"),
            (std::vector<std::string>{
                "control.yaml:1:16: ads.address: missing port (expected host:port)",
                "control.yaml:2:8: admin.address: missing required field",
                "control.yaml:3:11: debounce: expected a duration like 250ms, 5s, 2m, 1h",
                "control.yaml:4:17: watch_interval: must be greater than 0",
                "control.yaml:5:9: groups: expected a list",
            }));
}

TEST(ControlConfigTest, EnvironmentReferencesAreSubstituted) {
  ::setenv("SLUICE_CONTROL_TEST_PORT", "18095", 1);
  const ControlLoadResult r = loadControlString(R"(groups:
  - name: edge
    match: {cluster: edge}
    clusters: [{name: c, endpoints: [{address: "127.0.0.1:${SLUICE_CONTROL_TEST_PORT}"}]}]
)");
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& cfg = *r.config->groups[0].config;
  EXPECT_EQ(cfg.endpointsOf(cfg.clusters[0])[0].address.str(), "127.0.0.1:18095");
  EXPECT_EQ(errorsOf("groups:\n  - {name: e, match: {cluster: \"${SLUICE_CONTROL_TEST_UNSET}\"}}\n"),
            (std::vector<std::string>{"control.yaml:2:32: groups[0].match.cluster: environment variable "
                                      "'SLUICE_CONTROL_TEST_UNSET' is not set"}));
}

// A file with no '$' skips the substitution walk; a '$' written as a
// double-quoted escape is a reference all the same.
TEST(ControlConfigTest, EnvironmentReferencesWrittenAsEscapesAreSubstituted) {
  for (const char* dollar : {"\\x24", "\\u0024", "\\U00000024"})
    EXPECT_EQ(errorsOf("groups:\n  - {name: e, match: {cluster: \"" + std::string(dollar) +
                       "{SLUICE_CONTROL_TEST_UNSET}\"}}\n"),
              (std::vector<std::string>{"control.yaml:2:32: groups[0].match.cluster: environment variable "
                                        "'SLUICE_CONTROL_TEST_UNSET' is not set"}))
        << dollar;
}

TEST(ControlConfigTest, UnreadableFileIsOneError) {
  const ControlLoadResult r = loadControlFile("/nonexistent/control.yaml");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].str(), "/nonexistent/control.yaml: cannot read: No such file or directory");
}

TEST(ControlConfigTest, AGroupsInputChangesOnlyWithItsContent) {
  const auto a = loadControlString(kGood, "control.yaml");
  std::string edited = kGood;
  edited.replace(edited.find("127.0.0.1:18092"), 15, "127.0.0.1:18093");
  // Comments and layout are not content.
  const auto b = loadControlString("# a comment\n" + edited, "control.yaml");
  ASSERT_TRUE(a.config && b.config);
  EXPECT_EQ(a.config->groups[0].input, b.config->groups[0].input);
  EXPECT_NE(a.config->groups[1].input, b.config->groups[1].input);
}

}  // namespace
}  // namespace sluice::control

namespace sluice::control {
namespace {

TEST(ControlConfigTest, AGroupForGrpcClientsIsRefusedWhatTheyWouldRefuse) {
  const std::string yaml = R"(groups:
  - name: grpc
    match: {cluster: grpc}
    clients: grpc
    route_configs:
      - name: echo
        virtual_hosts:
          - name: echo
            domains: [echo]
            routes:
              - {match: {prefix: /ok}, route: {cluster: echo}}
              - {match: {prefix: /old}, redirect: {path_redirect: /new}}
    clusters:
      - name: echo
        lb_policy: least_request
        endpoints: [{address: 127.0.0.1:18090}]
)";
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  ASSERT_FALSE(r.config);
  std::vector<std::string> errors;
  for (const auto& e : r.errors) errors.push_back(e.str());
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "control.yaml:6:9: groups[0].route_configs[0].virtual_hosts[0].routes[1]: gRPC clients fail "
                        "calls on a redirect route",
                        "control.yaml:14:9: groups[0].clusters[0].lb_policy: gRPC clients take round_robin or "
                        "ring_hash only, not least_request",
                    }));
  // The same group for any client is fine.
  std::string any = yaml;
  any.replace(any.find("clients: grpc"), 13, "clients: any");
  EXPECT_TRUE(loadControlString(any, "control.yaml").config);
  any.replace(any.find("clients: any"), 12, "clients: all");
  const ControlLoadResult bad = loadControlString(any, "control.yaml");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].str(), "control.yaml:4:14: groups[0].clients: must be any or grpc");
}

}  // namespace
}  // namespace sluice::control
