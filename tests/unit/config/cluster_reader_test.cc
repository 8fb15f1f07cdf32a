// Cluster YAML -> ClusterConfig: every upstream field, its defaults, and the
// errors (each "file:line:col: path: message"). Also the route action's
// `priority`, which picks the circuit-breaker thresholds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_json.h"
#include "config/loader.h"
#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;
using testing::loadOk;
using namespace std::chrono_literals;

// One cluster; `body` (cluster-level keys, 4-space indent) starts on line 4
// so its keys sit at column 5.
std::string oneCluster(const std::string& body) {
  return "clusters:\n"
         "  - name: c\n"
         "    endpoints: [{address: 127.0.0.1:1}]\n" +
         body;
}

// Raw strings start right after R"( so that line 1 is the first YAML line.
const char* const kFull = R"(clusters:
  - name: full
    connect_timeout: 250ms
    lb_policy: ring_hash
    hash_policy:
      - header: X-User
      - cookie: session
      - query_parameter: uid
      - source_ip: true
    ring_hash: {minimum_ring_size: 64, maximum_ring_size: 4096}
    maglev: {table_size: 7}
    least_request: {choice_count: 3}
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
    endpoints:
      - {address: 127.0.0.1:1001, weight: 3}
      - {address: 127.0.0.1:1002, priority: 1}
      - {address: 127.0.0.1:1003, weight: 128, priority: 127}
)";

TEST(ClusterReaderTest, EveryFieldParses) {
  auto cfg = loadOk(kFull);
  ASSERT_NE(cfg, nullptr);
  ASSERT_EQ(cfg->clusters.size(), 1u);
  const ClusterConfig& c = cfg->clusters[0];
  EXPECT_EQ(c.name, "full");
  EXPECT_EQ(c.connect_timeout, 250ms);
  EXPECT_EQ(c.lb_policy, LbPolicy::RingHash);

  ASSERT_EQ(c.hash_policy.size(), 4u);
  EXPECT_EQ(c.hash_policy[0].kind, HashPolicyConfig::Kind::Header);
  EXPECT_EQ(c.hash_policy[0].name, "x-user") << "header names are lower-cased";
  EXPECT_EQ(c.hash_policy[1].kind, HashPolicyConfig::Kind::Cookie);
  EXPECT_EQ(c.hash_policy[1].name, "session");
  EXPECT_EQ(c.hash_policy[2].kind, HashPolicyConfig::Kind::QueryParameter);
  EXPECT_EQ(c.hash_policy[2].name, "uid");
  EXPECT_EQ(c.hash_policy[3].kind, HashPolicyConfig::Kind::SourceIp);
  EXPECT_EQ(c.hash_policy[3].name, "");

  EXPECT_EQ(c.ring_hash_minimum_ring_size, 64u);
  EXPECT_EQ(c.ring_hash_maximum_ring_size, 4096u);
  EXPECT_EQ(c.maglev_table_size, 7u);
  EXPECT_EQ(c.least_request_choice_count, 3u);
  EXPECT_EQ(c.panic_threshold_percent, 30u);
  EXPECT_EQ(c.overprovisioning_factor_percent, 200u);
  EXPECT_EQ(c.max_connections_per_host, 10u);
  EXPECT_EQ(c.max_pending_requests, 20u);
  EXPECT_EQ(c.idle_timeout, 30s);

  ASSERT_TRUE(c.health_check);
  const HealthCheckConfig& hc = *c.health_check;
  EXPECT_EQ(hc.interval, 2s);
  EXPECT_EQ(hc.timeout, 500ms);
  EXPECT_EQ(hc.jitter, 100ms);
  EXPECT_EQ(hc.no_traffic_interval, 30s);
  EXPECT_EQ(hc.healthy_threshold, 2u);
  EXPECT_EQ(hc.unhealthy_threshold, 4u);
  ASSERT_TRUE(hc.http);
  EXPECT_FALSE(hc.tcp);
  EXPECT_EQ(hc.http->path, "/ready");
  EXPECT_EQ(hc.http->host, "health.local");
  EXPECT_EQ(hc.http->expected_statuses, (std::vector<std::pair<int, int>>{{200, 200}, {204, 206}}));

  ASSERT_TRUE(c.outlier_detection);
  const OutlierDetectionConfig& od = *c.outlier_detection;
  EXPECT_EQ(od.consecutive_5xx, 7u);
  EXPECT_EQ(od.consecutive_gateway_failure, 4u);
  EXPECT_EQ(od.interval, 3s);
  EXPECT_EQ(od.base_ejection_time, 10s);
  EXPECT_EQ(od.max_ejection_time, 100s);
  EXPECT_EQ(od.max_ejection_percent, 40u);
  EXPECT_EQ(od.half_open_max_requests, 5u);
  ASSERT_TRUE(od.success_rate);
  EXPECT_EQ(od.success_rate->minimum_hosts, 3u);
  EXPECT_EQ(od.success_rate->request_volume, 50u);
  EXPECT_DOUBLE_EQ(od.success_rate->stdev_factor, 2.5);
  ASSERT_TRUE(od.failure_percentage);
  EXPECT_EQ(od.failure_percentage->threshold, 70u);
  EXPECT_EQ(od.failure_percentage->minimum_hosts, 4u);
  EXPECT_EQ(od.failure_percentage->request_volume, 25u);

  const auto& n = c.circuit_breakers.normal;
  EXPECT_EQ(n.max_connections, 100u);
  EXPECT_EQ(n.max_pending_requests, 200u);
  EXPECT_EQ(n.max_requests, 300u);
  EXPECT_EQ(n.max_retries, 4u);
  EXPECT_FALSE(n.retry_budget) << "max_retries alone turns the budget off";
  const auto& h = c.circuit_breakers.high;
  EXPECT_EQ(h.max_pending_requests, 1u);
  EXPECT_EQ(h.max_requests, 3000u);
  EXPECT_EQ(h.max_retries, 40u);
  ASSERT_TRUE(h.retry_budget);
  EXPECT_EQ(h.retry_budget->budget_percent, 50u);
  EXPECT_EQ(h.retry_budget->min_retry_concurrency, 10u);

  const auto& eps = cfg->endpointsOf(c);
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].address.str(), "127.0.0.1:1001");
  EXPECT_EQ(eps[0].weight, 3u);
  EXPECT_EQ(eps[0].priority, 0u);
  EXPECT_EQ(eps[1].weight, 1u);
  EXPECT_EQ(eps[1].priority, 1u);
  EXPECT_EQ(eps[2].weight, 128u);
  EXPECT_EQ(eps[2].priority, 127u);
}

TEST(ClusterReaderTest, Defaults) {
  auto cfg = loadOk(oneCluster(""));
  ASSERT_NE(cfg, nullptr);
  const ClusterConfig& c = cfg->clusters.at(0);
  EXPECT_EQ(c.lb_policy, LbPolicy::RoundRobin);
  EXPECT_TRUE(c.hash_policy.empty());
  EXPECT_EQ(c.panic_threshold_percent, 50u);
  EXPECT_EQ(c.overprovisioning_factor_percent, 140u);
  EXPECT_EQ(c.ring_hash_minimum_ring_size, 1024u);
  EXPECT_EQ(c.ring_hash_maximum_ring_size, 8u * 1024 * 1024);
  EXPECT_EQ(c.maglev_table_size, 65537u);
  EXPECT_EQ(c.least_request_choice_count, 2u);
  EXPECT_FALSE(c.health_check);
  EXPECT_FALSE(c.outlier_detection);
  for (const CircuitBreakerThresholds* t : {&c.circuit_breakers.normal, &c.circuit_breakers.high}) {
    EXPECT_EQ(t->max_connections, 1024u);
    EXPECT_EQ(t->max_pending_requests, 1024u);
    EXPECT_EQ(t->max_requests, 1024u);
    EXPECT_EQ(t->max_retries, 3u);
    ASSERT_TRUE(t->retry_budget);
    EXPECT_EQ(t->retry_budget->budget_percent, 20u);
    EXPECT_EQ(t->retry_budget->min_retry_concurrency, 3u);
  }
  EXPECT_EQ(cfg->endpointsOf(c).at(0).weight, 1u);
  EXPECT_EQ(cfg->endpointsOf(c).at(0).priority, 0u);
}

TEST(ClusterReaderTest, HealthCheckAndOutlierDefaults) {
  auto cfg = loadOk(oneCluster(R"(    health_check:
      interval: 7s
      http: {}
    outlier_detection: {}
)"));
  ASSERT_NE(cfg, nullptr);
  const ClusterConfig& c = cfg->clusters.at(0);
  ASSERT_TRUE(c.health_check);
  EXPECT_EQ(c.health_check->interval, 7s);
  EXPECT_EQ(c.health_check->no_traffic_interval, 7s) << "defaults to interval";
  EXPECT_EQ(c.health_check->timeout, 1s);
  EXPECT_EQ(c.health_check->jitter, 0ms);
  EXPECT_EQ(c.health_check->healthy_threshold, 1u);
  EXPECT_EQ(c.health_check->unhealthy_threshold, 3u);
  ASSERT_TRUE(c.health_check->http);
  EXPECT_EQ(c.health_check->http->path, "/healthz");
  EXPECT_EQ(c.health_check->http->host, "");
  EXPECT_EQ(c.health_check->http->expected_statuses, (std::vector<std::pair<int, int>>{{200, 299}}));
  ASSERT_TRUE(c.outlier_detection);
  const auto& od = *c.outlier_detection;
  EXPECT_EQ(od.consecutive_5xx, 5u);
  EXPECT_EQ(od.consecutive_gateway_failure, 5u);
  EXPECT_EQ(od.interval, 10s);
  EXPECT_EQ(od.base_ejection_time, 30s);
  EXPECT_EQ(od.max_ejection_time, 300s);
  EXPECT_EQ(od.max_ejection_percent, 10u);
  EXPECT_EQ(od.half_open_max_requests, 1u);
  EXPECT_FALSE(od.success_rate);
  EXPECT_FALSE(od.failure_percentage);
}

TEST(ClusterReaderTest, NoTrafficIntervalDefaultsToTheDefaultInterval) {
  auto cfg = loadOk(oneCluster("    health_check: {tcp: {send: ping, expect: pong}}\n"));
  ASSERT_NE(cfg, nullptr);
  const auto& hc = *cfg->clusters.at(0).health_check;
  EXPECT_EQ(hc.interval, 5s);
  EXPECT_EQ(hc.no_traffic_interval, 5s);
  ASSERT_TRUE(hc.tcp);
  EXPECT_FALSE(hc.http);
  EXPECT_EQ(hc.tcp->send, "ping");
  EXPECT_EQ(hc.tcp->expect, "pong");
}

TEST(ClusterReaderTest, TcpHealthCheckWithEmptyMap) {
  auto cfg = loadOk(oneCluster("    health_check: {tcp: {}}\n"));
  ASSERT_NE(cfg, nullptr);
  ASSERT_TRUE(cfg->clusters.at(0).health_check->tcp);
  EXPECT_EQ(cfg->clusters.at(0).health_check->tcp->send, "");
}

// The reader means `tcp:` with no value to be a connect-only check (and
// `success_rate:` / `failure_percentage:` with no value to mean the defaults),
// but MapReader's constructor already reported "expected a mapping" for the null.
TEST(ClusterReaderTest, NullBlocksMeanDefaults) {
  auto cfg = loadOk(oneCluster(R"(    health_check:
      tcp:
    outlier_detection:
      success_rate:
      failure_percentage:
)"));
  ASSERT_NE(cfg, nullptr);
  const ClusterConfig& c = cfg->clusters.at(0);
  EXPECT_TRUE(c.health_check->tcp);
  ASSERT_TRUE(c.outlier_detection->success_rate);
  EXPECT_EQ(c.outlier_detection->success_rate->minimum_hosts, 5u);
  ASSERT_TRUE(c.outlier_detection->failure_percentage);
  EXPECT_EQ(c.outlier_detection->failure_percentage->threshold, 85u);
}

TEST(ClusterReaderTest, BreakerLimitsThatCouldNeverWorkAreRejected) {
  // Connections are shared by both priorities; a zero pending queue would
  // refuse every request that finds no idle connection.
  EXPECT_EQ(errorsOf(oneCluster("    circuit_breakers: {max_pending_requests: 0, high: {max_connections: 5}}\n")),
            (Errors{"t.yaml:4:46: clusters[0].circuit_breakers.max_pending_requests: expected an integer between 1 "
                    "and 1073741824",
                    "t.yaml:4:56: clusters[0].circuit_breakers.high: unknown field 'max_connections'"}));
}

TEST(ClusterReaderTest, EveryLbPolicyIsAccepted) {
  for (const char* p : {"round_robin", "least_request", "random", "ring_hash", "maglev"}) {
    auto cfg = loadOk(oneCluster(std::string("    lb_policy: ") + p + "\n"));
    ASSERT_NE(cfg, nullptr) << p;
    EXPECT_EQ(lbPolicyName(cfg->clusters.at(0).lb_policy), p);
  }
}

// --- errors -------------------------------------------------------------------

TEST(ClusterReaderTest, UnknownLbPolicy) {
  EXPECT_EQ(errorsOf(oneCluster("    lb_policy: fastest\n")),
            (Errors{"t.yaml:4:16: clusters[0].lb_policy: unsupported lb_policy 'fastest' "
                    "(supported: round_robin, least_request, random, ring_hash, maglev)"}));
}

TEST(ClusterReaderTest, HashPolicyNeedsAHashingLbPolicy) {
  EXPECT_EQ(errorsOf(oneCluster("    hash_policy: [{header: x-user}]\n")),
            (Errors{"t.yaml:4:18: clusters[0].hash_policy: hash_policy needs lb_policy ring_hash or maglev "
                    "(not round_robin)"}));
  EXPECT_EQ(errorsOf(oneCluster("    lb_policy: least_request\n    hash_policy: [{source_ip: true}]\n")),
            (Errors{"t.yaml:5:18: clusters[0].hash_policy: hash_policy needs lb_policy ring_hash or maglev "
                    "(not least_request)"}));
}

TEST(ClusterReaderTest, HashPolicyItemNeedsExactlyOneKind) {
  EXPECT_EQ(errorsOf(oneCluster(R"(    lb_policy: maglev
    hash_policy:
      - {header: a, cookie: b}
      - {}
      - {header: ""}
      - {source_ip: false}
      - {header: a, bogus: 1}
)")),
            (Errors{
                "t.yaml:6:9: clusters[0].hash_policy[0]: give exactly one of header, cookie, query_parameter, source_ip",
                "t.yaml:7:9: clusters[0].hash_policy[1]: give exactly one of header, cookie, query_parameter, source_ip",
                "t.yaml:8:9: clusters[0].hash_policy[2]: name must not be empty",
                "t.yaml:9:21: clusters[0].hash_policy[3].source_ip: only 'source_ip: true' is meaningful",
                "t.yaml:10:21: clusters[0].hash_policy[4]: unknown field 'bogus'",
            }));
}

TEST(ClusterReaderTest, MaglevTableSizeMustBePrime) {
  EXPECT_EQ(errorsOf(oneCluster("    maglev: {table_size: 65536}\n")),
            (Errors{"t.yaml:4:26: clusters[0].maglev.table_size: must be a prime number (e.g. 65537)"}));
  EXPECT_EQ(errorsOf(oneCluster("    maglev: {table_size: 2}\n")),
            (Errors{"t.yaml:4:26: clusters[0].maglev.table_size: expected an integer between 3 and 5000011"}));
}

TEST(ClusterReaderTest, RingHashMaximumBelowMinimum) {
  EXPECT_EQ(errorsOf(oneCluster("    ring_hash: {minimum_ring_size: 100, maximum_ring_size: 10}\n")),
            (Errors{"t.yaml:4:60: clusters[0].ring_hash.maximum_ring_size: must not be less than minimum_ring_size"}));
}

TEST(ClusterReaderTest, PanicAndOverprovisioningRanges) {
  EXPECT_EQ(errorsOf(oneCluster("    panic_threshold: 101\n    overprovisioning_factor: 99\n")),
            (Errors{"t.yaml:4:22: clusters[0].panic_threshold: expected an integer between 0 and 100",
                    "t.yaml:5:30: clusters[0].overprovisioning_factor: expected an integer between 100 and 1000"}));
}

TEST(ClusterReaderTest, HealthCheckNeedsExactlyOneOfHttpTcp) {
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {http: {path: /h}, tcp: {}}\n")),
            (Errors{"t.yaml:4:19: clusters[0].health_check: give exactly one of http, tcp, grpc"}));
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {interval: 1s}\n")),
            (Errors{"t.yaml:4:19: clusters[0].health_check: give exactly one of http, tcp, grpc"}));
}

TEST(ClusterReaderTest, BadExpectedStatuses) {
  EXPECT_EQ(errorsOf(oneCluster(R"(    health_check:
      http:
        expected_statuses: ["600", "300-200", "2xx", 99, "200-", "200"]
)")),
            (Errors{
                "t.yaml:6:29: clusters[0].health_check.http.expected_statuses[0]: expected a status (200) or an "
                "inclusive range (\"200-299\") within 100-599",
                "t.yaml:6:36: clusters[0].health_check.http.expected_statuses[1]: expected a status (200) or an "
                "inclusive range (\"200-299\") within 100-599",
                "t.yaml:6:47: clusters[0].health_check.http.expected_statuses[2]: expected a status (200) or an "
                "inclusive range (\"200-299\") within 100-599",
                "t.yaml:6:54: clusters[0].health_check.http.expected_statuses[3]: expected a status (200) or an "
                "inclusive range (\"200-299\") within 100-599",
                "t.yaml:6:58: clusters[0].health_check.http.expected_statuses[4]: expected a status (200) or an "
                "inclusive range (\"200-299\") within 100-599",
            }));
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {http: {expected_statuses: []}}\n")),
            (Errors{"t.yaml:4:46: clusters[0].health_check.http.expected_statuses: must not be empty"}));
}

TEST(ClusterReaderTest, HttpPathMustStartWithSlash) {
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {http: {path: ready}}\n")),
            (Errors{"t.yaml:4:33: clusters[0].health_check.http.path: must start with '/'"}));
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {http: {path: \"\"}}\n")),
            (Errors{"t.yaml:4:33: clusters[0].health_check.http.path: must start with '/'"}));
}

TEST(ClusterReaderTest, HealthCheckDurationsMustBePositive) {
  EXPECT_EQ(errorsOf(oneCluster("    health_check: {interval: 0, timeout: 0, no_traffic_interval: 0, tcp: {}}\n")),
            (Errors{"t.yaml:4:30: clusters[0].health_check.interval: must be greater than 0",
                    "t.yaml:4:42: clusters[0].health_check.timeout: must be greater than 0",
                    "t.yaml:4:66: clusters[0].health_check.no_traffic_interval: must be greater than 0"}));
}

TEST(ClusterReaderTest, UnknownHealthCheckFieldSuggestsTheRightOne) {
  EXPECT_EQ(errorsOf(oneCluster(R"(    health_check:
      intervl: 5s
      tcp: {}
)")),
            (Errors{"t.yaml:5:7: clusters[0].health_check: unknown field 'intervl'; did you mean 'interval'?"}));
}

TEST(ClusterReaderTest, MaxEjectionTimeBelowBase) {
  EXPECT_EQ(errorsOf(oneCluster("    outlier_detection: {base_ejection_time: 10s, max_ejection_time: 5s}\n")),
            (Errors{"t.yaml:4:69: clusters[0].outlier_detection.max_ejection_time: must not be less than "
                    "base_ejection_time"}));
}

TEST(ClusterReaderTest, HalfOpenMaxRequestsZero) {
  EXPECT_EQ(errorsOf(oneCluster("    outlier_detection: {half_open_max_requests: 0}\n")),
            (Errors{"t.yaml:4:49: clusters[0].outlier_detection.half_open_max_requests: expected an integer "
                    "between 1 and 1000"}));
}

TEST(ClusterReaderTest, CircuitBreakerRanges) {
  EXPECT_EQ(errorsOf(oneCluster("    circuit_breakers: {max_connections: 0, high: {max_requests: 0}, bogus: 1}\n")),
            (Errors{"t.yaml:4:41: clusters[0].circuit_breakers.max_connections: expected an integer between 1 and "
                    "1073741824",
                    "t.yaml:4:65: clusters[0].circuit_breakers.high.max_requests: expected an integer between 1 and "
                    "1073741824",
                    "t.yaml:4:69: clusters[0].circuit_breakers: unknown field 'bogus'"}));
}

// A cluster's inline endpoints become a load assignment of its own, named
// after the cluster (as EDS would deliver them), and the cluster names it.
TEST(ClusterReaderTest, InlineEndpointsAreLiftedIntoANamedLoadAssignment) {
  auto cfg = loadOk(R"(clusters:
  - name: a
    endpoints: [{address: 127.0.0.1:1}]
  - name: b
    endpoints: [{address: 127.0.0.1:2, weight: 5}, {address: 127.0.0.1:3, priority: 1}]
)");
  ASSERT_NE(cfg, nullptr);
  ASSERT_EQ(cfg->load_assignments.size(), 2u);
  EXPECT_EQ(cfg->clusters[0].load_assignment, "a");
  EXPECT_EQ(cfg->clusters[1].load_assignment, "b");
  const ClusterLoadAssignmentSpec* b = cfg->findLoadAssignment("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->cluster_name, "b");
  ASSERT_EQ(b->endpoints.size(), 2u);
  EXPECT_EQ(b->endpoints[0].address.str(), "127.0.0.1:2");
  EXPECT_EQ(b->endpoints[0].weight, 5u);
  EXPECT_EQ(b->endpoints[1].priority, 1u);
  EXPECT_EQ(&cfg->endpointsOf(cfg->clusters[1]), &b->endpoints);
  EXPECT_EQ(cfg->findLoadAssignment("c"), nullptr);

  // The dump shows them as a section of their own.
  const auto j = toJson(*cfg);
  EXPECT_EQ(j["clusters"][1]["load_assignment"], "b");
  EXPECT_FALSE(j["clusters"][1].contains("endpoints"));
  EXPECT_EQ(j["load_assignments"][1]["cluster_name"], "b");
  EXPECT_EQ(j["load_assignments"][1]["endpoints"][0]["address"], "127.0.0.1:2");
}

// Repeated addresses are allowed (as in Envoy): the entries share the host's
// health, ejection state, stats and pool.
TEST(ClusterReaderTest, RepeatedEndpointAddressIsAccepted) {
  auto cfg = loadOk(R"(clusters:
  - name: c
    endpoints:
      - {address: 127.0.0.1:1}
      - {address: 127.0.0.2:1}
      - {address: 127.0.0.1:1, priority: 1, weight: 2}
)");
  ASSERT_NE(cfg, nullptr);
  const auto& eps = cfg->endpointsOf(cfg->clusters.at(0));
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[2].address.str(), eps[0].address.str());
  EXPECT_EQ(eps[2].priority, 1u);
  EXPECT_EQ(eps[2].weight, 2u);
}

TEST(ClusterReaderTest, EndpointPriorityAndWeightOutOfRange) {
  EXPECT_EQ(errorsOf(R"(clusters:
  - name: c
    endpoints:
      - {address: 127.0.0.1:1, priority: 128}
      - {address: 127.0.0.1:2, weight: 0}
)"),
            (Errors{"t.yaml:4:42: clusters[0].endpoints[0].priority: expected an integer between 0 and 127",
                    "t.yaml:5:40: clusters[0].endpoints[1].weight: expected an integer between 1 and 128"}));
}

TEST(ClusterReaderTest, RoutePriorityMustBeNormalOrHigh) {
  const std::string yaml = R"(listeners:
  - name: l
    address: 127.0.0.1:0
    http:
      route_config:
        virtual_hosts:
          - name: v
            domains: ["*"]
            routes:
              - match: {prefix: /}
                route: {cluster: c, priority: urgent}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)";
  EXPECT_EQ(errorsOf(yaml), (Errors{"t.yaml:11:47: listeners[0].http.route_config.virtual_hosts[0].routes[0].route."
                                    "priority: must be normal or high"}));
  std::string high = yaml;
  high.replace(high.find("urgent"), 6, "high");
  EXPECT_NE(loadOk(high), nullptr);
  std::string normal = yaml;
  normal.replace(normal.find("urgent"), 6, "normal");
  EXPECT_NE(loadOk(normal), nullptr);
}

}  // namespace
}  // namespace sluice::config
