// What sluice-control serves: the shape other xDS clients rely on (RDS over
// ADS, the router last, gRPC's proxyless Listener), TLS listeners both ways,
// and tables that gRPC's xDS client can match by "host:port".
#include <unistd.h>
#include <gtest/gtest.h>

#include <fstream>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "tests/unit/xds/listener_translate_support.h"

namespace sluice::xds {
namespace {

using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using testing::canonical;
using testing::joined;
using testing::loadYaml;

constexpr const char* kRouterType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

constexpr const char* kGrpcYaml = R"(
listeners:
  - name: web
    address: 127.0.0.1:8080
    http:
      route_config_name: echo-routes
      http_filters: [{fault: {abort: {http_status: 503, percentage: 1}}}, {header_mutation: {request_headers_to_remove: [x-b]}}]
route_configs:
  - name: echo-routes
    virtual_hosts:
      - name: echo
        domains: [echo, echo.example.com, "*.echo.test"]
        routes:
          - match: {prefix: /}
            route: {weighted_clusters: [{name: echo-a, weight: 3}, {name: echo-b, weight: 1}]}
            per_filter_config:
              fault: {abort: {http_status: 500, percentage: 2}}
              header_mutation: {request_headers_to_remove: [x-a]}
clusters:
  - name: echo-a
    endpoints: [{address: 127.0.0.1:50051}]
  - name: echo-b
    endpoints: [{address: 127.0.0.1:50052}]
)";

template <class M>
M unpack(const google::protobuf::Any& any) {
  M m;
  EXPECT_TRUE(any.UnpackTo(&m)) << any.type_url();
  return m;
}

void expectGrpcShape(const HttpConnectionManager& hcm, const std::string& table) {
  ASSERT_TRUE(hcm.has_rds());
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
  EXPECT_EQ(hcm.rds().config_source().resource_api_version(), envoy::config::core::v3::V3);
  EXPECT_EQ(hcm.rds().route_config_name(), table);
  ASSERT_GE(hcm.http_filters_size(), 1);
  const auto& last = hcm.http_filters(hcm.http_filters_size() - 1);
  EXPECT_EQ(last.name(), "envoy.filters.http.router");
  EXPECT_EQ(last.typed_config().type_url(), kRouterType);
  for (int i = 0; i + 1 < hcm.http_filters_size(); ++i)
    EXPECT_NE(hcm.http_filters(i).typed_config().type_url(), kRouterType) << i;
  EXPECT_FALSE(hcm.stat_prefix().empty());
}

TEST(XdsToEnvoy, ProxylessListenerForATargetWithAndWithoutPort) {
  auto cfg = loadYaml(kGrpcYaml);
  ASSERT_TRUE(cfg);
  for (const std::string name : {"echo:50051", "echo", "echo.example.com:443"}) {
    const auto r = proxylessListener(*cfg, name);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->name, name);
    const auto l = unpack<Listener>(r->body);
    EXPECT_EQ(l.name(), name);
    EXPECT_FALSE(l.has_address());
    EXPECT_EQ(l.filter_chains_size(), 0);
    const auto hcm = unpack<HttpConnectionManager>(l.api_listener().api_listener());
    expectGrpcShape(hcm, "echo-routes");
    EXPECT_EQ(hcm.http_filters_size(), 1) << "proxyless clients get the router alone";
  }
  // Exact domains only, as gRPC's client looks up its own target's authority.
  EXPECT_FALSE(proxylessListener(*cfg, "other"));
  EXPECT_FALSE(proxylessListener(*cfg, "a.echo.test"));
  EXPECT_FALSE(proxylessListener(*cfg, "echo:abc"));
}

TEST(XdsToEnvoy, ServedResourcesHaveTheShapeClientsRequire) {
  auto cfg = loadYaml(kGrpcYaml);
  ASSERT_TRUE(cfg);
  const ResourcesByType all = toEnvoy(*cfg);
  ASSERT_EQ(all.count(std::string(kListenerType)), 1u);
  EXPECT_EQ(all.at(std::string(kClusterType)).size(), 2u);
  EXPECT_EQ(all.at(std::string(kClusterLoadAssignmentType)).size(), 2u);
  const auto& listeners = all.at(std::string(kListenerType));
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(listeners[0].name, "web");
  EXPECT_EQ(listeners[0].body.type_url(), kListenerType);
  const auto l = unpack<Listener>(listeners[0].body);
  EXPECT_EQ(l.address().socket_address().address(), "127.0.0.1");
  EXPECT_EQ(l.address().socket_address().port_value(), 8080u);
  ASSERT_EQ(l.filter_chains_size(), 1);
  EXPECT_FALSE(l.filter_chains(0).has_filter_chain_match());
  const auto& f = l.filter_chains(0).filters(0);
  EXPECT_EQ(f.name(), "envoy.filters.network.http_connection_manager");
  const auto hcm = unpack<HttpConnectionManager>(f.typed_config());
  expectGrpcShape(hcm, "echo-routes");
  EXPECT_EQ(hcm.stat_prefix(), "web");
  EXPECT_EQ(hcm.http_filters_size(), 3);
  EXPECT_EQ(hcm.http_filters(0).typed_config().type_url(),
            "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault");

  // The table: gRPC's client matches its target with the port ("echo:50051"),
  // so each exact domain is also served as "domain:*"; wildcard ones are not
  // (it refuses a pattern with two '*'). Envoy matches without the port.
  const auto& routes = all.at(std::string(kRouteConfigurationType));
  ASSERT_EQ(routes.size(), 1u);
  const auto rc = unpack<RouteConfiguration>(routes[0].body);
  EXPECT_TRUE(rc.ignore_port_in_host_matching());
  const auto& vh = rc.virtual_hosts(0);
  EXPECT_EQ(std::vector<std::string>(vh.domains().begin(), vh.domains().end()),
            (std::vector<std::string>{"echo", "echo:*", "echo.example.com", "echo.example.com:*", "*.echo.test"}));
  for (const auto& d : vh.domains()) EXPECT_LE(std::count(d.begin(), d.end(), '*'), 1) << d;
  const auto& action = vh.routes(0).route();
  ASSERT_EQ(action.weighted_clusters().clusters_size(), 2);
  EXPECT_EQ(action.weighted_clusters().clusters(0).name(), "echo-a");
  EXPECT_EQ(action.weighted_clusters().clusters(0).weight().value(), 3u);
  // gRPC C++ 1.51 refuses the table unless the deprecated total_weight
  // (100 when unset) equals the sum of the weights.
  ASSERT_TRUE(action.weighted_clusters().has_total_weight());
  EXPECT_EQ(action.weighted_clusters().total_weight().value(), 4u);
  // Per-route overrides reach gRPC's client wrapped as optional when it
  // lacks the filter, so it ignores them rather than refusing the table;
  // fault, which it has (and whose parser takes no wrapper), goes bare.
  const auto& typed = vh.routes(0).typed_per_filter_config();
  ASSERT_EQ(typed.count("envoy.filters.http.fault"), 1u);
  EXPECT_EQ(typed.at("envoy.filters.http.fault").type_url(),
            "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault");
  ASSERT_EQ(typed.count("envoy.filters.http.header_mutation"), 1u);
  const auto wrapper = unpack<envoy::config::route::v3::FilterConfig>(typed.at("envoy.filters.http.header_mutation"));
  EXPECT_TRUE(wrapper.is_optional());
  EXPECT_EQ(wrapper.config().type_url(),
            "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute");
}

std::string touch(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/xds_listener_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path) << "not a real PEM\n";
  return path;
}

std::string withFiles(std::string yaml) {
  for (const auto& [key, file] : {std::pair<std::string, std::string>{"@CERT@", "cert.pem"},
                                  {"@KEY@", "key.pem"}, {"@CA@", "ca.pem"}, {"@CERT2@", "cert2.pem"}}) {
    const std::string path = touch(file);
    for (size_t at; (at = yaml.find(key)) != std::string::npos;) yaml.replace(at, key.size(), path);
  }
  return yaml;
}

TEST(XdsToEnvoy, TlsListenersBothWays) {
  auto cfg = loadYaml(withFiles(R"(
listeners:
  - name: permissive
    address: 127.0.0.1:8443
    tls:
      mode: permissive
      certificates: [{cert_chain: @CERT@, private_key: @KEY@}]
      ca_bundle: @CA@
      verify_spiffe_ids: ["spiffe://td/ns/prod/*"]
      handshake_timeout: 3s
    http: {route_config_name: main}
  - name: strict
    address: 127.0.0.1:8444
    tls:
      certificates: [{cert_chain: @CERT@, private_key: @KEY@}, {cert_chain: @CERT2@, private_key: @KEY@}]
      alpn: [h2]
    tcp_proxy: {cluster: c}
  - name: sni
    address: 127.0.0.1:8445
    filter_chains:
      - match: {server_names: [a.example.com]}
        tls: {certificates: [{cert_chain: @CERT@, private_key: @KEY@}], ca_bundle: @CA@, require_client_cert: true}
        http: {route_config_name: main}
      - match: {transport_protocol: raw_buffer}
        tcp_proxy: {cluster: c}
route_configs:
  - name: main
    virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:9000}]
)"));
  ASSERT_TRUE(cfg);
  const ResourcesByType all = toEnvoy(*cfg);
  // PERMISSIVE: a TLS chain and a plaintext one, told apart by the TLS inspector.
  const auto l = unpack<Listener>(all.at(std::string(kListenerType))[0].body);
  ASSERT_EQ(l.name(), "permissive");
  ASSERT_EQ(l.filter_chains_size(), 2);
  EXPECT_EQ(l.filter_chains(0).filter_chain_match().transport_protocol(), "tls");
  EXPECT_EQ(l.filter_chains(0).transport_socket().name(), "envoy.transport_sockets.tls");
  EXPECT_EQ(l.filter_chains(0).transport_socket_connect_timeout().seconds(), 3);
  EXPECT_EQ(l.filter_chains(1).filter_chain_match().transport_protocol(), "raw_buffer");
  EXPECT_FALSE(l.filter_chains(1).has_transport_socket());
  ASSERT_EQ(l.listener_filters_size(), 1);
  EXPECT_EQ(l.listener_filters(0).name(), "envoy.filters.listener.tls_inspector");

  config::Config base;
  const AssembleResult r = assemble(base, testing::served(*cfg));
  ASSERT_TRUE(r.config) << joined(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
  EXPECT_EQ(canonical(*r.config).dump(2), canonical(*cfg).dump(2));
}

}  // namespace
}  // namespace sluice::xds
