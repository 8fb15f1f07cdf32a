// clusterToEnvoy: a model cluster as an EDS cluster over ADS.

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/cluster_parts.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;
namespace cluster = envoy::config::cluster::v3;

cluster::Cluster::LbPolicy lbPolicyToEnvoy(config::LbPolicy p) {
  switch (p) {
    case config::LbPolicy::RoundRobin: return cluster::Cluster::ROUND_ROBIN;
    case config::LbPolicy::LeastRequest: return cluster::Cluster::LEAST_REQUEST;
    case config::LbPolicy::Random: return cluster::Cluster::RANDOM;
    case config::LbPolicy::RingHash: return cluster::Cluster::RING_HASH;
    case config::LbPolicy::Maglev: return cluster::Cluster::MAGLEV;
  }
  return cluster::Cluster::ROUND_ROBIN;
}

void hashPolicyToSluice(const std::vector<config::HashPolicyConfig>& policies, google::protobuf::Struct& sluice) {
  auto& list = *(*sluice.mutable_fields())["hash_policy"].mutable_list_value();
  for (const auto& h : policies) {
    auto& entry = *list.add_values()->mutable_struct_value();
    switch (h.kind) {
      case config::HashPolicyConfig::Kind::Header: setString(entry, "header", h.name); break;
      case config::HashPolicyConfig::Kind::Cookie: setString(entry, "cookie", h.name); break;
      case config::HashPolicyConfig::Kind::QueryParameter: setString(entry, "query_parameter", h.name); break;
      case config::HashPolicyConfig::Kind::SourceIp:
        (*entry.mutable_fields())["source_ip"].set_bool_value(true);
        break;
    }
  }
}

}  // namespace

void clusterToEnvoy(const config::ClusterConfig& c, cluster::Cluster& out) {
  out.Clear();
  out.set_name(c.name);
  toProto(c.connect_timeout, *out.mutable_connect_timeout());
  if (c.type == config::ClusterType::OriginalDst) {
    // No endpoints to discover; Envoy requires the cluster to pick the host.
    out.set_type(cluster::Cluster::ORIGINAL_DST);
    out.set_lb_policy(cluster::Cluster::CLUSTER_PROVIDED);
    toProto(c.cleanup_interval, *out.mutable_cleanup_interval());
    if (c.use_http_header) out.mutable_original_dst_lb_config()->set_use_http_header(true);
  } else {
    out.set_type(cluster::Cluster::EDS);
    auto& eds = *out.mutable_eds_cluster_config();
    eds.mutable_eds_config()->mutable_ads();
    eds.mutable_eds_config()->set_resource_api_version(core::V3);
    eds.set_service_name(c.load_assignment);
    out.set_lb_policy(lbPolicyToEnvoy(c.lb_policy));
  }
  switch (c.lb_policy) {
    case config::LbPolicy::RingHash:
      out.mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(c.ring_hash_minimum_ring_size);
      out.mutable_ring_hash_lb_config()->mutable_maximum_ring_size()->set_value(c.ring_hash_maximum_ring_size);
      break;
    case config::LbPolicy::Maglev: out.mutable_maglev_lb_config()->mutable_table_size()->set_value(c.maglev_table_size); break;
    case config::LbPolicy::LeastRequest:
      out.mutable_least_request_lb_config()->mutable_choice_count()->set_value(c.least_request_choice_count);
      break;
    default: break;
  }
  out.mutable_common_lb_config()->mutable_healthy_panic_threshold()->set_value(c.panic_threshold_percent);

  google::protobuf::Struct sluice;
  setNumber(sluice, "overprovisioning_factor", c.overprovisioning_factor_percent);
  setNumber(sluice, "max_pending_requests", c.max_pending_requests);
  if (!c.hash_policy.empty()) hashPolicyToSluice(c.hash_policy, sluice);

  if (c.health_check) healthCheckToEnvoy(*c.health_check, *out.add_health_checks());
  if (c.outlier_detection)
    outlierDetectionToEnvoy(*c.outlier_detection, *out.mutable_outlier_detection(),
                            setStruct(sluice, "outlier_detection"));
  circuitBreakersToEnvoy(c, *out.mutable_circuit_breakers());
  google::protobuf::Struct http2;
  protocolToEnvoy(c, out, http2);
  if (!http2.fields().empty()) setStruct(sluice, "http2") = std::move(http2);

  if (c.tls) {
    envoy_tls::UpstreamTlsContext tls;
    upstreamTlsToEnvoy(*c.tls, tls);
    out.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
    out.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
  }
  (*out.mutable_metadata()->mutable_filter_metadata())[std::string(kSluiceMetadataKey)] = std::move(sluice);
}

}  // namespace sluice::xds
