// Sluice YAML -> model -> Envoy v3 -> the wire -> model: every cluster
// feature, its endpoints and its secrets come back with the same values
// (compared whole through config/config_json.h's dump, which lists every
// field the proxy uses).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "config/config_json.h"
#include "config/loader.h"
#include "tests/unit/xds/cluster_translate_support.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

using testing::overTheWire;
using testing::touchFile;

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  return text;
}

// Non-default values everywhere, so a field that does not come back shows.
std::string clustersYaml() {
  std::string yaml = R"(clusters:
  - name: full
    connect_timeout: 250ms
    lb_policy: ring_hash
    hash_policy:
      - header: X-User
      - cookie: session
      - query_parameter: uid
      - source_ip: true
    ring_hash: {minimum_ring_size: 64, maximum_ring_size: 4096}
    panic_threshold: 30
    overprovisioning_factor: 200
    max_connections_per_host: 10
    max_pending_requests: 20
    idle_timeout: 30s
    health_check:
      interval: 2s
      timeout: 500ms
      jitter: 100ms
      no_traffic_interval: 30s
      healthy_threshold: 2
      unhealthy_threshold: 4
      http:
        path: /ready
        host: health.local
        expected_statuses: [200, "204-206"]
        codec: http2
    outlier_detection:
      consecutive_5xx: 7
      consecutive_gateway_failure: 4
      interval: 3s
      base_ejection_time: 10s
      max_ejection_time: 100s
      max_ejection_percent: 40
      half_open_max_requests: 5
      success_rate: {minimum_hosts: 3, request_volume: 50, stdev_factor: 2.5}
      failure_percentage: {threshold: 70, minimum_hosts: 4, request_volume: 25}
    circuit_breakers:
      max_connections: 100
      max_pending_requests: 200
      max_requests: 300
      max_retries: 4
      high:
        max_pending_requests: 1
        max_requests: 3000
        max_retries: 40
        retry_budget: {budget_percent: 50, min_retry_concurrency: 10}
    protocol: http2
    http2:
      max_concurrent_streams: 50
      initial_stream_window_size: 131072
      initial_connection_window_size: 2097152
      max_frame_size: 32768
      keepalive_interval: 15s
      keepalive_timeout: 3s
      max_stream_resets_per_second: 7
      max_stream_resets_burst: 70
    endpoints:
      - {address: 127.0.0.1:1001, weight: 3}
      - {address: "[::1]:1002", priority: 1}
      - {address: 10.0.0.3:1003, weight: 128, priority: 127}
  - name: secure
    lb_policy: maglev
    maglev: {table_size: 7}
    protocol: auto
    http2: {max_frame_size: 65536, keepalive_timeout: 9s}
    health_check:
      interval: 1s
      timeout: 1s
      grpc: {service_name: pkg.Svc, authority: health.internal}
    outlier_detection:
      consecutive_5xx: 0
      consecutive_gateway_failure: 0
      success_rate: {stdev_factor: 1.2345}
    circuit_breakers:
      max_retries: 9
    tls:
      sni: backend.internal
      ca_bundle: @CA@
      cert_chain: @CERT@
      private_key: @KEY@
      verify_subject_alt_names: [backend.internal, "10.1.2.3", "https://backend.example/id"]
      verify_spiffe_ids: ["spiffe://mesh.test/ns/prod/sa/backend", "spiffe://mesh.test/ns/staging/*"]
    endpoints: [{address: 127.0.0.1:2001}]
  - name: tcp_checked
    lb_policy: least_request
    least_request: {choice_count: 5}
    panic_threshold: 0
    health_check:
      interval: 3s
      timeout: 2s
      tcp: {send: "PING\r\n\u0000\u00ff", expect: PONG}
    tls: {alpn: [custom/1]}
    endpoints: [{address: 127.0.0.1:3001}]
  - name: connect_only
    lb_policy: random
    health_check:
      interval: 3s
      timeout: 2s
      tcp: {}
    endpoints: [{address: 127.0.0.1:4001}]
  - name: defaults
    endpoints: [{address: 127.0.0.1:5001}]
)";
  yaml = substitute(yaml, "@CA@", touchFile("ca.pem"));
  yaml = substitute(yaml, "@CERT@", touchFile("cert,1.pem"));
  return substitute(yaml, "@KEY@", touchFile("key.pem"));
}

std::shared_ptr<const config::Config> load(const std::string& yaml) {
  const auto r = config::loadString(yaml, "t.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errorText();
  return r.config;
}

TEST(ClusterRoundTrip, EveryClusterFeatureComesBack) {
  const auto cfg = load(clustersYaml());
  ASSERT_NE(cfg, nullptr);
  ASSERT_EQ(cfg->clusters.size(), 5u);
  for (const auto& c : cfg->clusters) {
    SCOPED_TRACE(c.name);
    envoy_cluster::Cluster envoy;
    clusterToEnvoy(c, envoy);
    config::ClusterConfig back;
    std::optional<config::ClusterLoadAssignmentSpec> inline_endpoints;
    const FieldError e = clusterFromEnvoy(overTheWire(envoy), back, inline_endpoints);
    ASSERT_TRUE(e.empty()) << e.str();
    EXPECT_FALSE(inline_endpoints) << "an EDS cluster has no inline endpoints";
    EXPECT_EQ(config::toJson(back).dump(2), config::toJson(c).dump(2));
  }
}

TEST(ClusterRoundTrip, LoadAssignmentsComeBackWithTheClustersFactor) {
  const auto cfg = load(clustersYaml());
  ASSERT_NE(cfg, nullptr);
  ASSERT_EQ(cfg->load_assignments.size(), 5u);
  for (const auto& c : cfg->clusters) {
    const auto* a = cfg->findLoadAssignment(c.load_assignment);
    ASSERT_NE(a, nullptr);
    envoy_endpoint::ClusterLoadAssignment envoy;
    loadAssignmentToEnvoy(*a, c.overprovisioning_factor_percent, envoy);
    config::ClusterLoadAssignmentSpec back;
    std::optional<uint32_t> factor;
    const FieldError e = loadAssignmentFromEnvoy(overTheWire(envoy), back, factor);
    ASSERT_TRUE(e.empty()) << e.str();
    EXPECT_EQ(config::toJson(back).dump(), config::toJson(*a).dump());
    EXPECT_EQ(factor, c.overprovisioning_factor_percent);
  }
  // The first cluster's three priorities come back in order with their weights.
  const auto& full = cfg->load_assignments[0];
  ASSERT_EQ(full.endpoints.size(), 3u);
  EXPECT_EQ(full.endpoints[1].address.str(), "[::1]:1002");
  EXPECT_EQ(full.endpoints[2].weight, 128u);
  EXPECT_EQ(full.endpoints[2].priority, 127u);
}

TEST(ClusterRoundTrip, SecretsComeBack) {
  const auto cfg = load(clustersYaml());
  ASSERT_NE(cfg, nullptr);
  ASSERT_EQ(cfg->secrets.size(), 2u);
  for (const auto& s : cfg->secrets) {
    SCOPED_TRACE(s.name);
    envoy_tls::Secret envoy;
    secretToEnvoy(s, envoy);
    config::SecretSpec back;
    const FieldError e = secretFromEnvoy(overTheWire(envoy), back);
    ASSERT_TRUE(e.empty()) << e.str();
    EXPECT_EQ(config::toJson(back).dump(), config::toJson(s).dump());
  }
}

}  // namespace
}  // namespace sluice::xds
