// Clusters and load assignments: what Envoy is told (its own fields, so
// Envoy and gRPC clients act on them), clusters as other control planes send
// them, and every rejection with its exact field path.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "config/config_json.h"
#include "config/loader.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "tests/unit/xds/cluster_translate_support.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

using testing::fromText;
using testing::overTheWire;
using namespace std::chrono_literals;
namespace core = envoy::config::core::v3;

const config::ClusterConfig& onlyCluster(const std::shared_ptr<const config::Config>& cfg) {
  static const config::ClusterConfig kNone;
  if (!cfg || cfg->clusters.empty()) return kNone;
  return cfg->clusters[0];
}

std::shared_ptr<const config::Config> load(const std::string& yaml) {
  const auto r = config::loadString(yaml, "t.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errorText();
  return r.config;
}

TEST(ClusterToEnvoy, UsesEnvoysOwnFields) {
  const auto cfg = load(R"(clusters:
  - name: web
    connect_timeout: 250ms
    lb_policy: ring_hash
    ring_hash: {minimum_ring_size: 64, maximum_ring_size: 4096}
    panic_threshold: 30
    max_connections_per_host: 10
    idle_timeout: 30s
    health_check:
      interval: 2s
      timeout: 500ms
      jitter: 100ms
      healthy_threshold: 2
      unhealthy_threshold: 4
      http: {path: /ready, expected_statuses: ["200-204"], codec: http2}
    outlier_detection:
      consecutive_5xx: 7
      consecutive_gateway_failure: 0
      success_rate: {stdev_factor: 2.5}
    circuit_breakers:
      max_connections: 100
      max_retries: 4
      high: {max_requests: 3000, retry_budget: {budget_percent: 50, min_retry_concurrency: 10}}
    protocol: http2
    http2: {max_concurrent_streams: 50, initial_stream_window_size: 131072, keepalive_interval: 15s}
    endpoints: [{address: 127.0.0.1:1}]
)");
  envoy_cluster::Cluster e;
  clusterToEnvoy(onlyCluster(cfg), e);
  EXPECT_EQ(e.name(), "web");
  EXPECT_EQ(e.connect_timeout().nanos(), 250000000);
  EXPECT_EQ(e.type(), envoy_cluster::Cluster::EDS);
  EXPECT_TRUE(e.eds_cluster_config().eds_config().has_ads());
  EXPECT_EQ(e.eds_cluster_config().eds_config().resource_api_version(), core::V3);
  EXPECT_EQ(e.eds_cluster_config().service_name(), "web");
  EXPECT_EQ(e.lb_policy(), envoy_cluster::Cluster::RING_HASH);
  EXPECT_EQ(e.ring_hash_lb_config().minimum_ring_size().value(), 64u);
  EXPECT_EQ(e.ring_hash_lb_config().maximum_ring_size().value(), 4096u);
  EXPECT_EQ(e.common_lb_config().healthy_panic_threshold().value(), 30);

  ASSERT_EQ(e.health_checks_size(), 1);
  const auto& hc = e.health_checks(0);
  EXPECT_EQ(hc.interval().seconds(), 2);
  EXPECT_EQ(hc.timeout().nanos(), 500000000);
  EXPECT_EQ(hc.interval_jitter().nanos(), 100000000);
  EXPECT_EQ(hc.no_traffic_interval().seconds(), 2) << "the loader's default: the interval";
  EXPECT_EQ(hc.healthy_threshold().value(), 2u);
  EXPECT_EQ(hc.unhealthy_threshold().value(), 4u);
  EXPECT_EQ(hc.http_health_check().path(), "/ready");
  ASSERT_EQ(hc.http_health_check().expected_statuses_size(), 1);
  EXPECT_EQ(hc.http_health_check().expected_statuses(0).start(), 200);
  EXPECT_EQ(hc.http_health_check().expected_statuses(0).end(), 205) << "Envoy's ranges are half-open";
  EXPECT_EQ(hc.http_health_check().codec_client_type(), envoy::type::v3::HTTP2);

  const auto& od = e.outlier_detection();
  EXPECT_EQ(od.consecutive_5xx().value(), 7u);
  EXPECT_EQ(od.enforcing_consecutive_5xx().value(), 100u);
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure().value(), 0u) << "0 turns the detector off";
  EXPECT_EQ(od.enforcing_success_rate().value(), 100u);
  EXPECT_EQ(od.success_rate_stdev_factor().value(), 2500u);
  EXPECT_EQ(od.enforcing_failure_percentage().value(), 0u);

  const auto& cb = e.circuit_breakers();
  ASSERT_EQ(cb.thresholds_size(), 2);
  EXPECT_EQ(cb.thresholds(0).priority(), core::DEFAULT);
  EXPECT_EQ(cb.thresholds(0).max_connections().value(), 100u);
  EXPECT_EQ(cb.thresholds(0).max_retries().value(), 4u);
  EXPECT_FALSE(cb.thresholds(0).has_retry_budget()) << "max_retries alone is the static limit";
  EXPECT_EQ(cb.thresholds(1).priority(), core::HIGH);
  EXPECT_EQ(cb.thresholds(1).max_requests().value(), 3000u);
  EXPECT_EQ(cb.thresholds(1).retry_budget().budget_percent().value(), 50);
  EXPECT_EQ(cb.thresholds(1).retry_budget().min_retry_concurrency().value(), 10u);
  ASSERT_EQ(cb.per_host_thresholds_size(), 1);
  EXPECT_EQ(cb.per_host_thresholds(0).max_connections().value(), 10u);

  envoy::extensions::upstreams::http::v3::HttpProtocolOptions po;
  ASSERT_TRUE(
      e.typed_extension_protocol_options().at("envoy.extensions.upstreams.http.v3.HttpProtocolOptions").UnpackTo(&po));
  EXPECT_EQ(po.common_http_protocol_options().idle_timeout().seconds(), 30);
  const auto& h2 = po.explicit_http_config().http2_protocol_options();
  EXPECT_EQ(h2.max_concurrent_streams().value(), 50u);
  EXPECT_EQ(h2.initial_stream_window_size().value(), 131072u);
  EXPECT_EQ(h2.connection_keepalive().interval().seconds(), 15);
  EXPECT_EQ(h2.connection_keepalive().timeout().seconds(), 20);

  // Only what Envoy has no field for is in io.sluice.
  const auto& sluice = e.metadata().filter_metadata().at("io.sluice").fields();
  EXPECT_EQ(sluice.at("overprovisioning_factor").number_value(), 140);
  EXPECT_EQ(sluice.at("outlier_detection").struct_value().fields().at("half_open_max_requests").number_value(), 1);
  EXPECT_FALSE(sluice.at("outlier_detection").struct_value().fields().contains("stdev_factor"))
      << "2.5 is a whole number of thousandths";
  EXPECT_EQ(sluice.at("http2").struct_value().fields().at("max_frame_size").number_value(), 16384);
  EXPECT_FALSE(sluice.at("http2").struct_value().fields().contains("keepalive_timeout_ms"))
      << "Envoy's connection_keepalive holds it";
}

TEST(ClusterToEnvoy, LoadAssignmentGroupsPrioritiesAndCarriesTheFactor) {
  const auto cfg = load(R"(clusters:
  - name: web
    overprovisioning_factor: 180
    endpoints:
      - {address: 10.0.0.1:80, weight: 5}
      - {address: 10.0.0.2:80, priority: 2}
      - {address: 10.0.0.3:80}
)");
  ASSERT_TRUE(cfg);
  envoy_endpoint::ClusterLoadAssignment e;
  loadAssignmentToEnvoy(cfg->load_assignments[0], cfg->clusters[0].overprovisioning_factor_percent, e);
  EXPECT_EQ(e.cluster_name(), "web");
  EXPECT_EQ(e.policy().overprovisioning_factor().value(), 180u);
  // Priorities 0..2 without a gap, each with a locality and a weight (gRPC
  // clients need both); priority 1 is empty.
  ASSERT_EQ(e.endpoints_size(), 3);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(e.endpoints(p).priority(), static_cast<uint32_t>(p));
    EXPECT_TRUE(e.endpoints(p).has_locality());
    // A level's weight is its endpoints' (5 + 1 at priority 0); a gap's is 1.
    EXPECT_EQ(e.endpoints(p).load_balancing_weight().value(), p == 0 ? 6u : 1u);
  }
  ASSERT_EQ(e.endpoints(0).lb_endpoints_size(), 2);
  EXPECT_EQ(e.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(), "10.0.0.1");
  EXPECT_EQ(e.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().port_value(), 80u);
  EXPECT_EQ(e.endpoints(0).lb_endpoints(0).load_balancing_weight().value(), 5u);
  EXPECT_EQ(e.endpoints(0).lb_endpoints(1).endpoint().address().socket_address().address(), "10.0.0.3");
  EXPECT_EQ(e.endpoints(1).lb_endpoints_size(), 0);
  ASSERT_EQ(e.endpoints(2).lb_endpoints_size(), 1);
  EXPECT_EQ(e.endpoints(2).lb_endpoints(0).endpoint().address().socket_address().address(), "10.0.0.2");

  envoy_endpoint::ClusterLoadAssignment plain;
  loadAssignmentToEnvoy(cfg->load_assignments[0], plain);
  EXPECT_FALSE(plain.has_policy());

  // Back: grouped by priority, the empty level adds nothing.
  config::ClusterLoadAssignmentSpec back;
  ASSERT_TRUE(loadAssignmentFromEnvoy(e, back).empty());
  ASSERT_EQ(back.endpoints.size(), 3u);
  EXPECT_EQ(back.endpoints[1].address.str(), "10.0.0.3:80");
  EXPECT_EQ(back.endpoints[2].address.str(), "10.0.0.2:80");
  EXPECT_EQ(back.endpoints[2].priority, 2u);
}

// Endpoints' localities: a LocalityLbEndpoints per priority and locality,
// weighted by its endpoints, and back the same.
TEST(ClusterToEnvoy, LoadAssignmentGroupsLocalitiesWithinAPriority) {
  const auto cfg = load(R"(clusters:
  - name: web
    endpoints:
      - {address: 10.0.0.1:80, weight: 3, locality: {region: eu, zone: eu-1a}}
      - {address: 10.0.0.2:80, locality: {region: us, zone: us-1b, sub_zone: rack-2}}
      - {address: 10.0.0.3:80, weight: 2, locality: {region: eu, zone: eu-1a}}
      - {address: 10.0.0.4:80, priority: 1}
)");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->load_assignments[0].endpoints[1].locality.sub_zone, "rack-2");
  envoy_endpoint::ClusterLoadAssignment e;
  loadAssignmentToEnvoy(cfg->load_assignments[0], e);
  ASSERT_EQ(e.endpoints_size(), 3);
  const auto& eu = e.endpoints(0);
  EXPECT_EQ(eu.priority(), 0u);
  EXPECT_EQ(eu.locality().region(), "eu");
  EXPECT_EQ(eu.locality().zone(), "eu-1a");
  EXPECT_EQ(eu.load_balancing_weight().value(), 5u);
  ASSERT_EQ(eu.lb_endpoints_size(), 2);
  EXPECT_EQ(eu.lb_endpoints(1).endpoint().address().socket_address().address(), "10.0.0.3");
  const auto& us = e.endpoints(1);
  EXPECT_EQ(us.priority(), 0u);
  EXPECT_EQ(us.locality().sub_zone(), "rack-2");
  EXPECT_EQ(us.load_balancing_weight().value(), 1u);
  EXPECT_EQ(e.endpoints(2).priority(), 1u);
  EXPECT_TRUE(e.endpoints(2).has_locality());
  EXPECT_EQ(e.endpoints(2).locality().region(), "");

  config::ClusterLoadAssignmentSpec back;
  ASSERT_TRUE(loadAssignmentFromEnvoy(overTheWire(e), back).empty());
  ASSERT_EQ(back.endpoints.size(), 4u);
  EXPECT_EQ(back.endpoints[0].locality, (config::LocalityConfig{"eu", "eu-1a", ""}));
  EXPECT_EQ(back.endpoints[1].address.str(), "10.0.0.3:80");
  EXPECT_EQ(back.endpoints[2].locality, (config::LocalityConfig{"us", "us-1b", "rack-2"}));
  EXPECT_EQ(back.endpoints[3].locality, config::LocalityConfig{});
  EXPECT_EQ(config::toJson(back)["endpoints"][2]["locality"]["sub_zone"], "rack-2");
  EXPECT_FALSE(config::toJson(back)["endpoints"][3].contains("locality"));
}

// A STATIC cluster with inline endpoints, as other control planes and gRPC's
// tests send them: Envoy's defaults apply where the resource is silent.
TEST(ClusterFromEnvoy, StaticClusterWithInlineEndpoints) {
  const auto in = fromText<envoy_cluster::Cluster>(R"pb(
    name: "backend"
    type: STATIC
    connect_timeout { seconds: 2 }
    lb_policy: LEAST_REQUEST
    load_assignment {
      cluster_name: "whatever"
      policy { overprovisioning_factor { value: 150 } }
      endpoints {
        locality { region: "eu" zone: "a" }
        load_balancing_weight { value: 77 }
        lb_endpoints { endpoint { address { socket_address { address: "10.1.0.1" port_value: 8080 } } } }
        lb_endpoints {
          endpoint { address { socket_address { address: "10.1.0.2" port_value: 8080 } } }
          health_status: UNHEALTHY
        }
        lb_endpoints {
          endpoint { address { socket_address { address: "10.1.0.3" port_value: 8080 } } }
          health_status: DRAINING
        }
        lb_endpoints {
          endpoint { address { socket_address { address: "fd00::4" port_value: 8080 } } }
          health_status: HEALTHY
          load_balancing_weight { value: 9 }
        }
      }
      endpoints {
        priority: 2
        lb_endpoints {
          endpoint { address { socket_address { address: "10.2.0.1" port_value: 9090 } } }
          health_status: DEGRADED
        }
      }
    }
    outlier_detection {}
  )pb");
  config::ClusterConfig c;
  std::optional<config::ClusterLoadAssignmentSpec> endpoints;
  const FieldError e = clusterFromEnvoy(overTheWire(in), c, endpoints);
  ASSERT_TRUE(e.empty()) << e.str();
  EXPECT_EQ(c.name, "backend");
  EXPECT_EQ(c.load_assignment, "backend");
  EXPECT_EQ(c.connect_timeout, 2s);
  EXPECT_EQ(c.lb_policy, config::LbPolicy::LeastRequest);
  EXPECT_EQ(c.overprovisioning_factor_percent, 150u) << "the inline assignment's policy";
  // Envoy's meanings of what was left out.
  EXPECT_EQ(c.idle_timeout, 1h);
  EXPECT_EQ(c.protocol, config::UpstreamProtocol::Http1);
  EXPECT_FALSE(c.circuit_breakers.normal.retry_budget) << "no budget: the static max_retries";
  EXPECT_EQ(c.circuit_breakers.normal.max_retries, 3u);
  ASSERT_TRUE(c.outlier_detection);
  EXPECT_EQ(c.outlier_detection->consecutive_5xx, 5u);
  EXPECT_EQ(c.outlier_detection->consecutive_gateway_failure, 0u) << "off unless enforced";
  EXPECT_TRUE(c.outlier_detection->success_rate) << "enforced by default";
  EXPECT_FALSE(c.outlier_detection->failure_percentage) << "not enforced by default";

  ASSERT_TRUE(endpoints);
  EXPECT_EQ(endpoints->cluster_name, "backend");
  ASSERT_EQ(endpoints->endpoints.size(), 3u) << "UNHEALTHY and DRAINING endpoints are left out";
  EXPECT_EQ(endpoints->endpoints[0].address.str(), "10.1.0.1:8080");
  EXPECT_EQ(endpoints->endpoints[0].weight, 1u);
  EXPECT_EQ(endpoints->endpoints[1].address.str(), "[fd00::4]:8080");
  EXPECT_EQ(endpoints->endpoints[1].weight, 9u);
  EXPECT_EQ(endpoints->endpoints[2].address.str(), "10.2.0.1:9090");
  EXPECT_EQ(endpoints->endpoints[2].priority, 2u);

  // The two-argument form checks the inline endpoints too.
  auto bad = in;
  bad.mutable_load_assignment()->mutable_endpoints(0)->mutable_lb_endpoints(0)->mutable_load_balancing_weight()->set_value(
      129);
  config::ClusterConfig ignored;
  EXPECT_EQ(clusterFromEnvoy(bad, ignored).str(),
            "load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight: 129 is out of range (1 to 128)");
}

// An EDS cluster over ADS with SDS-named TLS, deprecated HTTP/2 options and
// Envoy's "no limit" circuit breakers, as an Istio-era server writes them.
TEST(ClusterFromEnvoy, EdsClusterWithSdsTls) {
  const auto in = fromText<envoy_cluster::Cluster>(R"pb(
    name: "outbound|8080||reviews.default.svc.cluster.local"
    type: EDS
    eds_cluster_config {
      eds_config { ads {} initial_fetch_timeout {} resource_api_version: V3 }
      service_name: "reviews-v1"
    }
    connect_timeout { seconds: 10 }
    lb_policy: MAGLEV
    maglev_lb_config { table_size { value: 131 } }
    http2_protocol_options { max_concurrent_streams { value: 4294967295 } }
    circuit_breakers {
      thresholds {
        max_connections { value: 4294967295 }
        max_pending_requests { value: 4294967295 }
        max_requests { value: 4294967295 }
        max_retries { value: 4294967295 }
        track_remaining: true
      }
    }
    transport_socket {
      name: "envoy.transport_sockets.tls"
      typed_config {
        [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
          sni: "outbound_.8080_._.reviews.default.svc.cluster.local"
          common_tls_context {
            tls_certificate_sds_secret_configs { name: "default" sds_config { ads {} resource_api_version: V3 } }
            combined_validation_context {
              default_validation_context {
                match_subject_alt_names { exact: "spiffe://cluster.local/ns/default/sa/reviews" }
              }
              validation_context_sds_secret_config { name: "ROOTCA" sds_config { ads {} } }
            }
          }
        }
      }
    }
  )pb");
  config::ClusterConfig c;
  const FieldError e = clusterFromEnvoy(overTheWire(in), c);
  ASSERT_TRUE(e.empty()) << e.str();
  EXPECT_EQ(c.load_assignment, "reviews-v1");
  EXPECT_EQ(c.lb_policy, config::LbPolicy::Maglev);
  EXPECT_EQ(c.maglev_table_size, 131u);
  EXPECT_EQ(c.protocol, config::UpstreamProtocol::Http2);
  EXPECT_EQ(c.http2.max_concurrent_streams, 1u << 20) << "Envoy's no-limit becomes the model's maximum";
  EXPECT_EQ(c.circuit_breakers.normal.max_connections, 1u << 30);
  EXPECT_EQ(c.circuit_breakers.normal.max_retries, 1u << 30);
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->sni, "outbound_.8080_._.reviews.default.svc.cluster.local");
  EXPECT_EQ(c.tls->certificate, "default");
  EXPECT_EQ(c.tls->validation_context, "ROOTCA");
  EXPECT_EQ(c.tls->verify_spiffe_ids, std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/reviews"});
  EXPECT_EQ(c.tls->alpn, std::vector<std::string>{"h2"}) << "an HTTP/2 TLS cluster offers h2";
}

TEST(ClusterFromEnvoy, TypedLoadBalancingPolicyTakesTheFirstKnownOne) {
  const auto in = fromText<envoy_cluster::Cluster>(R"pb(
    name: "c"
    type: EDS
    eds_cluster_config { eds_config { self {} } }
    load_balancing_policy {
      policies {
        typed_extension_config {
          name: "custom"
          typed_config { [type.googleapis.com/google.protobuf.Empty] {} }
        }
      }
      policies {
        typed_extension_config {
          name: "random"
          typed_config { type_url: "type.googleapis.com/envoy.extensions.load_balancing_policies.random.v3.Random" }
        }
      }
    }
  )pb");
  config::ClusterConfig c;
  const FieldError e = clusterFromEnvoy(in, c);
  ASSERT_TRUE(e.empty()) << e.str();
  EXPECT_EQ(c.lb_policy, config::LbPolicy::Random);
  EXPECT_EQ(c.load_assignment, "c") << "no service_name: the cluster's own";
}

TEST(ClusterFromEnvoy, FinerStdevFactorAndUnknownSluiceKeys) {
  const auto cfg = load(R"(clusters:
  - name: c
    outlier_detection: {success_rate: {stdev_factor: 1.2345}}
    endpoints: [{address: 127.0.0.1:1}]
)");
  envoy_cluster::Cluster e;
  clusterToEnvoy(onlyCluster(cfg), e);
  EXPECT_EQ(e.outlier_detection().success_rate_stdev_factor().value(), 1235u) << "Envoy's thousandths, rounded";
  config::ClusterConfig c;
  ASSERT_TRUE(clusterFromEnvoy(e, c).empty());
  EXPECT_DOUBLE_EQ(c.outlier_detection->success_rate->stdev_factor, 1.2345) << "io.sluice holds the exact value";

  // Another server's value for the same field: Envoy's precision.
  auto other = e;
  other.clear_metadata();
  ASSERT_TRUE(clusterFromEnvoy(other, c).empty());
  EXPECT_DOUBLE_EQ(c.outlier_detection->success_rate->stdev_factor, 1.235);
  EXPECT_EQ(c.overprovisioning_factor_percent, 140u) << "no io.sluice: the model's default";
}

struct Rejection {
  const char* what;
  const char* text;      // a Cluster in protobuf text format
  const char* expected;  // FieldError::str()
};

// A valid EDS cluster's text, to which each case adds one bad field.
constexpr const char* kEds = R"pb(name: "c" type: EDS eds_cluster_config { eds_config { ads {} } } )pb";

const Rejection kClusterRejections[] = {
    {"strict dns", R"pb(name: "c" type: STRICT_DNS)pb",
     "type: unsupported cluster discovery type STRICT_DNS (Sluice takes EDS, STATIC and ORIGINAL_DST)"},
    {"logical dns", R"pb(name: "c" type: LOGICAL_DNS)pb",
     "type: unsupported cluster discovery type LOGICAL_DNS (Sluice takes EDS, STATIC and ORIGINAL_DST)"},
    {"original dst with endpoints", R"pb(name: "c" type: ORIGINAL_DST load_assignment { cluster_name: "c" })pb",
     "load_assignment: an ORIGINAL_DST cluster connects to each connection's original destination: no endpoints"},
    {"original dst balanced", R"pb(name: "c" type: ORIGINAL_DST lb_policy: MAGLEV)pb",
     "lb_policy: an ORIGINAL_DST cluster takes CLUSTER_PROVIDED"},
    {"original dst own header",
     R"pb(name: "c" type: ORIGINAL_DST original_dst_lb_config { use_http_header: true http_header_name: "x-to" })pb",
     "original_dst_lb_config.http_header_name: not supported (the header is x-envoy-original-dst-host)"},
    {"original dst port override",
     R"pb(name: "c" type: ORIGINAL_DST original_dst_lb_config { upstream_port_override { value: 80 } })pb",
     "original_dst_lb_config.upstream_port_override: not supported"},
    {"original dst zero cleanup", R"pb(name: "c" type: ORIGINAL_DST cleanup_interval {})pb",
     "cleanup_interval: must be at least 1ms"},
    {"original dst ejection", R"pb(name: "c" type: ORIGINAL_DST outlier_detection {})pb",
     "outlier_detection: an ORIGINAL_DST cluster has no hosts to eject"},
    {"custom cluster type", R"pb(name: "c" cluster_type { name: "envoy.clusters.aggregate" })pb",
     "cluster_type: unsupported custom cluster type 'envoy.clusters.aggregate' (Sluice takes EDS, STATIC and ORIGINAL_DST)"},
    {"no name", R"pb(type: EDS)pb", "name: missing"},
    {"eds without source", R"pb(name: "c" type: EDS)pb", "eds_cluster_config.eds_config: missing"},
    {"eds from a path", R"pb(name: "c" type: EDS eds_cluster_config { eds_config { path_config_source { path: "/x" } } })pb",
     "eds_cluster_config.eds_config: endpoints are fetched over the ADS stream only: expected ads {} or self {}"},
    {"static with a hostname",
     R"pb(name: "c" type: STATIC load_assignment { endpoints { lb_endpoints { endpoint { address { socket_address { address: "db.local" port_value: 5432 } } } } } })pb",
     "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: 'db.local' is not an IP "
     "address (Sluice does not resolve names)"},
    {"cluster provided lb", R"pb(lb_policy: CLUSTER_PROVIDED)pb",
     "lb_policy: unsupported load balancing policy CLUSTER_PROVIDED (Sluice takes ROUND_ROBIN, LEAST_REQUEST, "
     "RANDOM, RING_HASH, MAGLEV)"},
    {"typed lb policy with settings",
     R"pb(load_balancing_policy { policies { typed_extension_config { typed_config { type_url: "type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash" value: "\n\x02\x08\x10" } } } })pb",
     "load_balancing_policy.policies[0].typed_extension_config.typed_config: settings of "
     "envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash are not supported here: use lb_policy with its "
     "*_lb_config field"},
    {"typed lb policy unknown",
     R"pb(load_balancing_policy { policies { typed_extension_config { typed_config { type_url: "type.googleapis.com/x.Wrr" } } } })pb",
     "load_balancing_policy.policies: none of the policies is supported (Sluice takes round_robin, least_request, "
     "random, ring_hash, maglev)"},
    {"ring too small", R"pb(ring_hash_lb_config { minimum_ring_size { value: 0 } })pb",
     "ring_hash_lb_config.minimum_ring_size: 0 is out of range (1 to 8388608)"},
    {"maglev not prime", R"pb(maglev_lb_config { table_size { value: 100 } })pb",
     "maglev_lb_config.table_size: must be a prime from 3 to 5000011 (e.g. 65537), got 100"},
    {"choice count", R"pb(least_request_lb_config { choice_count { value: 1 } })pb",
     "least_request_lb_config.choice_count: 1 is out of range (2 to 100)"},
    {"fractional panic threshold", R"pb(common_lb_config { healthy_panic_threshold { value: 12.5 } })pb",
     "common_lb_config.healthy_panic_threshold: expected a whole percent from 0 to 100, got 12.5"},
    {"subsets", R"pb(lb_subset_config { subset_selectors { keys: "version" } })pb",
     "lb_subset_config: subset load balancing is not supported"},
    {"two health checks",
     R"pb(health_checks { timeout { seconds: 1 } } health_checks { timeout { seconds: 1 } })pb",
     "health_checks: Sluice runs one active health check per cluster; got 2"},
    {"health check without interval", R"pb(health_checks { timeout { seconds: 1 } })pb",
     "health_checks[0].interval: missing (Envoy requires it)"},
    {"health check threshold",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 0 } unhealthy_threshold { value: 1 } tcp_health_check {} })pb",
     "health_checks[0].healthy_threshold: 0 is out of range (1 to 1000)"},
    {"redis health check",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } custom_health_check { name: "envoy.health_checkers.redis" } })pb",
     "health_checks[0].custom_health_check: unsupported health checker 'envoy.health_checkers.redis' (Sluice checks "
     "http, grpc, tcp)"},
    {"http check body",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "/h" send { text: "00" } } })pb",
     "health_checks[0].http_health_check.send: HTTP checks with a request body are not supported"},
    {"http check status range",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "/h" expected_statuses { start: 200 end: 200 } } })pb",
     "health_checks[0].http_health_check.expected_statuses[0]: expected [start, end) with 100 <= start < end <= 600, "
     "got [200, 200)"},
    {"http3 check",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "/h" codec_client_type: HTTP3 } })pb",
     "health_checks[0].http_health_check.codec_client_type: only HTTP1 and HTTP2 checks are supported"},
    {"tcp check bad hex",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } tcp_health_check { send { text: "0G" } } })pb",
     "health_checks[0].tcp_health_check.send.text: not hex: '0G'"},
    {"tcp check two replies",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } tcp_health_check { receive { text: "00" } receive { text: "01" } } })pb",
     "health_checks[0].tcp_health_check.receive: Sluice awaits one reply payload; got 2"},
    {"health check alt port",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } alt_port { value: 9 } tcp_health_check {} })pb",
     "health_checks[0].alt_port: health checks go to the endpoint's own port"},
    {"partial enforcement", R"pb(outlier_detection { enforcing_consecutive_5xx { value: 50 } })pb",
     "outlier_detection.enforcing_consecutive_5xx: Sluice enforces a detector always or never: expected 0 or 100, "
     "got 50"},
    {"ejection times",
     R"pb(outlier_detection { base_ejection_time { seconds: 400 } })pb",
     "outlier_detection.base_ejection_time: max_ejection_time (default 300s) must not be less than base_ejection_time"},
    {"stdev factor", R"pb(outlier_detection { success_rate_stdev_factor { value: 50 } })pb",
     "outlier_detection.success_rate_stdev_factor: 50 is out of range (100 to 100000)"},
    {"failure percentage threshold",
     R"pb(outlier_detection { enforcing_failure_percentage { value: 100 } failure_percentage_threshold { value: 0 } })pb",
     "outlier_detection.failure_percentage_threshold: 0 is out of range (1 to 100)"},
    {"local origin split", R"pb(outlier_detection { split_external_local_origin_errors: true })pb",
     "outlier_detection.split_external_local_origin_errors: Sluice counts local-origin failures with the others"},
    {"duplicate priority", R"pb(circuit_breakers { thresholds {} thresholds { priority: DEFAULT } })pb",
     "circuit_breakers.thresholds[1].priority: a second DEFAULT entry (one per priority)"},
    {"zero pending", R"pb(circuit_breakers { thresholds { max_pending_requests { value: 0 } } })pb",
     "circuit_breakers.thresholds[0].max_pending_requests: must be at least 1"},
    {"fractional budget",
     R"pb(circuit_breakers { thresholds { priority: HIGH retry_budget { budget_percent { value: 2.5 } } } })pb",
     "circuit_breakers.thresholds[0].retry_budget.budget_percent: expected a whole percent from 0 to 100, got 2.5"},
    {"per-host high", R"pb(circuit_breakers { per_host_thresholds { priority: HIGH } })pb",
     "circuit_breakers.per_host_thresholds[0].priority: Sluice has one per-host limit, for the DEFAULT priority"},
    {"protocol options type",
     R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/google.protobuf.Empty] {} } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]: expected an "
     "envoy.extensions.upstreams.http.v3.HttpProtocolOptions, got type.googleapis.com/google.protobuf.Empty"},
    {"downstream protocol",
     R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { use_downstream_protocol_config {} } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"
     ".use_downstream_protocol_config: Sluice does not follow the downstream protocol: use explicit_http_config or "
     "auto_config"},
    {"http3",
     R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { explicit_http_config { http3_protocol_options {} } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"
     ".explicit_http_config.http3_protocol_options: HTTP/3 upstreams are not supported"},
    {"small window",
     R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { explicit_http_config { http2_protocol_options { initial_stream_window_size { value: 1000 } } } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"
     ".explicit_http_config.http2_protocol_options.initial_stream_window_size: 1000 is out of range (65535 to "
     "2147483647)"},
    {"idle timeout off",
     R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { common_http_protocol_options { idle_timeout {} } explicit_http_config { http_protocol_options {} } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"
     ".common_http_protocol_options.idle_timeout: Sluice always closes idle pooled connections: give a duration of at "
     "least 1ms"},
    {"raw socket type",
     R"pb(transport_socket { name: "envoy.transport_sockets.alts" typed_config { [type.googleapis.com/google.protobuf.Empty] {} } })pb",
     "transport_socket: unsupported transport socket 'envoy.transport_sockets.alts' "
     "(type.googleapis.com/google.protobuf.Empty); Sluice takes TLS (UpstreamTlsContext) and raw_buffer"},
    {"tls error path",
     R"pb(transport_socket { name: "envoy.transport_sockets.tls" typed_config { [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] { common_tls_context { tls_certificates {} validation_context_sds_secret_config { name: "ca" } } } } })pb",
     "transport_socket.typed_config.common_tls_context.tls_certificates: only SDS secrets by name are supported (no "
     "inline certificates)"},
    {"transport socket matches", R"pb(transport_socket_matches { name: "m" })pb",
     "transport_socket_matches: per-endpoint transport sockets are not supported"},
    {"unknown sluice key",
     R"pb(metadata { filter_metadata { key: "io.sluice" value { fields { key: "warp" value { number_value: 9 } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].warp: unknown Sluice field (from a newer sluice-control?)"},
    {"sluice factor range",
     R"pb(metadata { filter_metadata { key: "io.sluice" value { fields { key: "overprovisioning_factor" value { number_value: 99 } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].overprovisioning_factor: 99 is out of range (100 to 1000)"},
    {"hash policy without a hashing lb",
     R"pb(metadata { filter_metadata { key: "io.sluice" value { fields { key: "hash_policy" value { list_value { values { struct_value { fields { key: "header" value { string_value: "x" } } } } } } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].hash_policy: hash_policy needs lb_policy RING_HASH or MAGLEV"},
    {"grpc check without h2",
     R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } grpc_health_check {} }
          transport_socket { typed_config { [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] { common_tls_context { validation_context_sds_secret_config { name: "ca" } } } } })pb",
     "health_checks[0].grpc_health_check: an HTTP/2 check of a TLS cluster needs h2 in the TLS context's "
     "alpn_protocols"},
    {"negative connect timeout", R"pb(connect_timeout { seconds: -1 })pb",
     "connect_timeout: invalid duration"},
    {"zero connect timeout", R"pb(connect_timeout { })pb",
     "connect_timeout: must be at least 1ms"},
    {"typed lb policy missing", R"pb(lb_policy: LOAD_BALANCING_POLICY_CONFIG)pb",
     "load_balancing_policy: missing (lb_policy is LOAD_BALANCING_POLICY_CONFIG)"},
    {"original dst lb", R"pb(original_dst_lb_config {})pb",
     "original_dst_lb_config: not supported"},
    {"cleanup interval", R"pb(cleanup_interval { seconds: 5 })pb",
     "cleanup_interval: only an ORIGINAL_DST cluster takes it"},
    {"ring max below min", R"pb(ring_hash_lb_config { minimum_ring_size { value: 100 } maximum_ring_size { value: 10 } })pb",
     "ring_hash_lb_config.maximum_ring_size: must not be less than minimum_ring_size"},
    {"no health checker", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } })pb",
     "health_checks[0]: no health checker set (Sluice checks http, grpc, tcp)"},
    {"http path", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "ready" } })pb",
     "health_checks[0].http_health_check.path: must start with '/'"},
    {"http receive", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "/h" receive { text: "00" } } })pb",
     "health_checks[0].http_health_check.receive: HTTP checks match statuses only, not body payloads"},
    {"http extra headers", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "/h" request_headers_to_add { header { key: "a" value: "b" } } } })pb",
     "health_checks[0].http_health_check.request_headers_to_add: extra health check request headers are not supported"},
    {"http method", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } http_health_check { path: "/h" method: POST } })pb",
     "health_checks[0].http_health_check.method: health checks use GET only"},
    {"grpc metadata", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } grpc_health_check { initial_metadata { header { key: "a" value: "b" } } } })pb",
     "health_checks[0].grpc_health_check.initial_metadata: not supported"},
    {"tcp proxy protocol", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } tcp_health_check { proxy_protocol_config {} } })pb",
     "health_checks[0].tcp_health_check.proxy_protocol_config: not supported"},
    {"tcp odd hex", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } tcp_health_check { receive { text: "123" } } })pb",
     "health_checks[0].tcp_health_check.receive[0].text: hex payload has an odd number of digits"},
    {"no unhealthy threshold", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } tcp_health_check {} })pb",
     "health_checks[0].unhealthy_threshold: missing (Envoy requires it)"},
    {"zero no traffic interval", R"pb(health_checks { timeout { seconds: 1 } interval { seconds: 1 } healthy_threshold { value: 1 } unhealthy_threshold { value: 1 } no_traffic_interval {} tcp_health_check {} })pb",
     "health_checks[0].no_traffic_interval: must be at least 1ms"},
    {"outlier monitors", R"pb(outlier_detection { monitors { name: "m" } })pb",
     "outlier_detection.monitors: outlier detection monitors are not supported"},
    {"ejection percent", R"pb(outlier_detection { max_ejection_percent { value: 101 } })pb",
     "outlier_detection.max_ejection_percent: 101 is out of range (0 to 100)"},
    {"consecutive 5xx", R"pb(outlier_detection { consecutive_5xx { value: 1001 } })pb",
     "outlier_detection.consecutive_5xx: 1001 is out of range (0 to 1000)"},
    {"success rate hosts", R"pb(outlier_detection { success_rate_minimum_hosts { value: 0 } })pb",
     "outlier_detection.success_rate_minimum_hosts: 0 is out of range (1 to 10000)"},
    {"failure percentage volume", R"pb(outlier_detection { enforcing_failure_percentage { value: 100 } failure_percentage_request_volume { value: 0 } })pb",
     "outlier_detection.failure_percentage_request_volume: 0 is out of range (1 to 1073741824)"},
    {"connection pools", R"pb(circuit_breakers { thresholds { max_connection_pools { value: 3 } } })pb",
     "circuit_breakers.thresholds[0].max_connection_pools: a limit on connection pools is not supported"},
    {"zero requests", R"pb(circuit_breakers { thresholds { priority: HIGH max_requests { value: 0 } } })pb",
     "circuit_breakers.thresholds[0].max_requests: must be at least 1"},
    {"per-host zero", R"pb(circuit_breakers { per_host_thresholds { max_connections { value: 0 } } })pb",
     "circuit_breakers.per_host_thresholds[0].max_connections: must be at least 1"},
    {"no protocol choice", R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].upstream_protocol_options: missing: give explicit_http_config or auto_config"},
    {"upstream http filters", R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { explicit_http_config { http_protocol_options {} } http_filters { name: "f" } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].http_filters: upstream HTTP filters are not supported"},
    {"custom settings", R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { explicit_http_config { http2_protocol_options { custom_settings_parameters { identifier { value: 9 } value { value: 1 } } } } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].explicit_http_config.http2_protocol_options.custom_settings_parameters: custom HTTP/2 SETTINGS are not supported"},
    {"keepalive without interval", R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { auto_config { http2_protocol_options { connection_keepalive { timeout { seconds: 1 } } } } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].auto_config.http2_protocol_options.connection_keepalive.interval: Sluice pings on an interval only"},
    {"keepalive without timeout", R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { auto_config { http2_protocol_options { connection_keepalive { interval { seconds: 1 } } } } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].auto_config.http2_protocol_options.connection_keepalive.timeout: missing (Envoy requires it)"},
    {"auto http3", R"pb(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { auto_config { http3_protocol_options {} } } } })pb",
     "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].auto_config.http3_protocol_options: HTTP/3 upstreams are not supported"},
    {"deprecated http2 window", R"pb(http2_protocol_options { initial_connection_window_size { value: 10 } })pb",
     "http2_protocol_options.initial_connection_window_size: 10 is out of range (65535 to 2147483647)"},
    {"custom upstream", R"pb(upstream_config { name: "u" })pb",
     "upstream_config: custom upstreams are not supported"},
    {"upstream filters", R"pb(filters { name: "f" })pb",
     "filters: upstream network filters are not supported"},
    {"downstream protocol selection", R"pb(protocol_selection: USE_DOWNSTREAM_PROTOCOL)pb",
     "protocol_selection: Sluice does not follow the downstream protocol"},
    {"sluice http2 unknown key", R"pb(http2_protocol_options {} metadata { filter_metadata { key: "io.sluice" value { fields { key: "http2" value { struct_value { fields { key: "window" value { number_value: 1 } } } } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].http2.window: unknown Sluice field (from a newer sluice-control?)"},
    {"sluice frame size", R"pb(http2_protocol_options {} metadata { filter_metadata { key: "io.sluice" value { fields { key: "http2" value { struct_value { fields { key: "max_frame_size" value { number_value: 1 } } } } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].http2.max_frame_size: 1 is out of range (16384 to 16777215)"},
    {"sluice pending fraction", R"pb(metadata { filter_metadata { key: "io.sluice" value { fields { key: "max_pending_requests" value { number_value: 1.5 } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].max_pending_requests: expected a whole number"},
    {"sluice outlier not a struct", R"pb(outlier_detection {} metadata { filter_metadata { key: "io.sluice" value { fields { key: "outlier_detection" value { string_value: "x" } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].outlier_detection: expected a struct"},
    {"sluice half open", R"pb(outlier_detection {} metadata { filter_metadata { key: "io.sluice" value { fields { key: "outlier_detection" value { struct_value { fields { key: "half_open_max_requests" value { number_value: 0 } } } } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].outlier_detection.half_open_max_requests: 0 is out of range (1 to 1000)"},
    {"sluice hash policy not a list", R"pb(lb_policy: RING_HASH metadata { filter_metadata { key: "io.sluice" value { fields { key: "hash_policy" value { string_value: "x" } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].hash_policy: expected a list"},
    {"sluice hash source", R"pb(lb_policy: MAGLEV metadata { filter_metadata { key: "io.sluice" value { fields { key: "hash_policy" value { list_value { values { struct_value { fields { key: "ip" value { string_value: "x" } } } } } } } } } })pb",
     "metadata.filter_metadata[\"io.sluice\"].hash_policy[0].ip: unknown hash source (header, cookie, query_parameter, source_ip)"},
    {"v2 eds", R"pb(name: "c" type: EDS eds_cluster_config { eds_config { ads {} resource_api_version: V2 } })pb",
     "eds_cluster_config.eds_config.resource_api_version: only the v3 API is supported"},
    {"static factor",
     R"pb(name: "c" type: STATIC load_assignment { policy { overprovisioning_factor { value: 2000 } } })pb",
     "load_assignment.policy.overprovisioning_factor: 2000 is out of range (100 to 1000)"},
};

TEST(ClusterFromEnvoy, AnEnumValueThisBuildDoesNotKnowIsNamedByNumber) {
  envoy_cluster::Cluster in;
  in.set_name("c");
  in.set_type(static_cast<envoy_cluster::Cluster::DiscoveryType>(42));
  config::ClusterConfig c;
  EXPECT_EQ(clusterFromEnvoy(overTheWire(in), c).str(),
            "type: unsupported cluster discovery type 42 (Sluice takes EDS, STATIC and ORIGINAL_DST)");
}

TEST(ClusterFromEnvoy, EachRejectionNamesItsField) {
  for (const auto& r : kClusterRejections) {
    SCOPED_TRACE(r.what);
    const std::string text = std::string(r.text).find("name:") == 0 || std::string(r.text).find("type:") == 0
                                 ? r.text
                                 : std::string(kEds) + r.text;
    const auto in = fromText<envoy_cluster::Cluster>(text);
    config::ClusterConfig c;
    EXPECT_EQ(clusterFromEnvoy(in, c).str(), r.expected);
  }
}

const Rejection kEndpointRejections[] = {
    {"no name", R"pb(endpoints {})pb", "cluster_name: missing"},
    {"weight 0",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 1 } } } load_balancing_weight { value: 0 } } })pb",
     "endpoints[0].lb_endpoints[0].load_balancing_weight: 0 is out of range (1 to 128)"},
    {"weight 200",
     R"pb(cluster_name: "c" endpoints { } endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 1 } } } load_balancing_weight { value: 200 } } })pb",
     "endpoints[1].lb_endpoints[0].load_balancing_weight: 200 is out of range (1 to 128)"},
    {"priority", R"pb(cluster_name: "c" endpoints { priority: 128 })pb",
     "endpoints[0].priority: 128 is out of range (0 to 127)"},
    {"hostname",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { socket_address { address: "api.example.com" port_value: 443 } } } } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: 'api.example.com' is not an IP address "
     "(Sluice does not resolve names)"},
    {"port 0",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" } } } } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: port 0 out of range (1 to 65535)"},
    {"named port",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" named_port: "http" } } } } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.named_port: named ports are not supported: give "
     "port_value"},
    {"udp",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { socket_address { protocol: UDP address: "10.0.0.1" port_value: 53 } } } } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.protocol: only TCP is supported"},
    {"pipe",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { pipe { path: "/run/x.sock" } } } } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.address: only socket addresses (IP and port) are supported"},
    {"no address", R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint {} } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.address: missing"},
    {"named endpoint", R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint_name: "e1" } })pb",
     "endpoints[0].lb_endpoints[0]: expected an endpoint (named endpoints are not supported)"},
    {"health check port",
     R"pb(cluster_name: "c" endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 1 } } health_check_config { port_value: 2 } } } })pb",
     "endpoints[0].lb_endpoints[0].endpoint.health_check_config: health checks go to the endpoint's own address and "
     "port"},
    {"leds", R"pb(cluster_name: "c" endpoints { leds_cluster_locality_config { leds_collection_name: "x" } })pb",
     "endpoints[0].leds_cluster_locality_config: LEDS is not supported"},
    {"drops",
     R"pb(cluster_name: "c" policy { drop_overloads { category: "lb" drop_percentage { numerator: 5 } } })pb",
     "policy.drop_overloads: dropping a share of requests is not supported"},
    {"factor", R"pb(cluster_name: "c" policy { overprovisioning_factor { value: 50 } })pb",
     "policy.overprovisioning_factor: 50 is out of range (100 to 1000)"},
};

TEST(LoadAssignmentFromEnvoy, EachRejectionNamesItsField) {
  for (const auto& r : kEndpointRejections) {
    SCOPED_TRACE(r.what);
    const auto in = fromText<envoy_endpoint::ClusterLoadAssignment>(r.text);
    config::ClusterLoadAssignmentSpec a;
    EXPECT_EQ(loadAssignmentFromEnvoy(in, a).str(), r.expected);
  }
}

TEST(LoadAssignmentFromEnvoy, EndpointListsAndFactor) {
  const auto in = fromText<envoy_endpoint::ClusterLoadAssignment>(R"pb(
    cluster_name: "svc"
    policy { overprovisioning_factor { value: 100 } }
    endpoints {
      load_balancer_endpoints {
        lb_endpoints { endpoint { address { socket_address { address: "127.0.0.5" port_value: 7 } } } }
      }
    }
  )pb");
  config::ClusterLoadAssignmentSpec a;
  std::optional<uint32_t> factor;
  ASSERT_TRUE(loadAssignmentFromEnvoy(in, a, factor).empty());
  EXPECT_EQ(factor, 100u);
  ASSERT_EQ(a.endpoints.size(), 1u);
  EXPECT_EQ(a.endpoints[0].address.str(), "127.0.0.5:7");
}

}  // namespace
}  // namespace sluice::xds
