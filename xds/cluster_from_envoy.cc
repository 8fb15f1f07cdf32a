// clusterFromEnvoy: any v3 server's Cluster into the model, or the field
// that stops it.

#include <algorithm>
#include <cctype>
#include <cmath>

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/cluster_parts.h"
#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;
namespace cluster = envoy::config::cluster::v3;

const std::string kSluicePath = "metadata.filter_metadata[\"io.sluice\"]";

// An enum value's name, or its number when this build does not know it.
std::string enumText(const std::string& name, int value) { return name.empty() ? std::to_string(value) : name; }

// EDS and SDS come over the stream that brought the cluster.
FieldError adsSourceFromEnvoy(const core::ConfigSource& s, const std::string& path, std::string_view what) {
  if (s.config_source_specifier_case() != core::ConfigSource::kAds &&
      s.config_source_specifier_case() != core::ConfigSource::kSelf)
    return {path, std::string(what) + " are fetched over the ADS stream only: expected ads {} or self {}"};
  if (s.resource_api_version() != core::AUTO && s.resource_api_version() != core::V3)
    return {fieldPath(path, "resource_api_version"), "only the v3 API is supported"};
  return {};
}

struct NamedPolicy {
  std::string_view type;
  config::LbPolicy policy;
};
constexpr NamedPolicy kTypedPolicies[] = {
    {"envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin", config::LbPolicy::RoundRobin},
    {"envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest", config::LbPolicy::LeastRequest},
    {"envoy.extensions.load_balancing_policies.random.v3.Random", config::LbPolicy::Random},
    {"envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash", config::LbPolicy::RingHash},
    {"envoy.extensions.load_balancing_policies.maglev.v3.Maglev", config::LbPolicy::Maglev},
};

// load_balancing_policy: the first policy Sluice knows wins, as in gRPC.
// Their settings would need protos Sluice does not compile, so only a
// policy with none is taken; lb_policy and *_lb_config say the same.
FieldError typedLbPolicyFromEnvoy(const cluster::LoadBalancingPolicy& in, config::ClusterConfig& out) {
  for (int i = 0; i < in.policies_size(); ++i) {
    const auto& any = in.policies(i).typed_extension_config().typed_config();
    const std::string_view url = any.type_url();
    const std::string_view type = url.substr(url.rfind('/') + 1);
    for (const auto& p : kTypedPolicies) {
      if (p.type != type) continue;
      if (!any.value().empty())
        return {indexPath("load_balancing_policy.policies", i) + ".typed_extension_config.typed_config",
                "settings of " + std::string(type) +
                    " are not supported here: use lb_policy with its *_lb_config field"};
      out.lb_policy = p.policy;
      return {};
    }
  }
  return {"load_balancing_policy.policies",
          "none of the policies is supported (Sluice takes round_robin, least_request, random, ring_hash, maglev)"};
}

FieldError lbFromEnvoy(const cluster::Cluster& in, config::ClusterConfig& out) {
  // The host is the connection's original destination: nothing to balance.
  if (out.type == config::ClusterType::OriginalDst) {
    if (in.lb_policy() != cluster::Cluster::CLUSTER_PROVIDED && in.lb_policy() != cluster::Cluster::ROUND_ROBIN)
      return {"lb_policy", "an ORIGINAL_DST cluster takes CLUSTER_PROVIDED"};
    if (in.has_cleanup_interval())
      if (auto e = positiveDurationFromEnvoy(in.cleanup_interval(), "cleanup_interval", out.cleanup_interval);
          !e.empty())
        return e;
    if (!in.has_original_dst_lb_config()) return {};
    const auto& od = in.original_dst_lb_config();
    // Only Envoy's own header: a header chosen by the server is one more
    // way for a client to pick any upstream.
    if (!od.http_header_name().empty())
      return {"original_dst_lb_config.http_header_name", "not supported (the header is x-envoy-original-dst-host)"};
    if (od.has_upstream_port_override()) return {"original_dst_lb_config.upstream_port_override", "not supported"};
    if (od.has_metadata_key()) return {"original_dst_lb_config.metadata_key", "not supported"};
    out.use_http_header = od.use_http_header();
    return {};
  }
  if (in.has_cleanup_interval()) return {"cleanup_interval", "only an ORIGINAL_DST cluster takes it"};
  switch (in.lb_policy()) {
    case cluster::Cluster::ROUND_ROBIN: out.lb_policy = config::LbPolicy::RoundRobin; break;
    case cluster::Cluster::LEAST_REQUEST: out.lb_policy = config::LbPolicy::LeastRequest; break;
    case cluster::Cluster::RANDOM: out.lb_policy = config::LbPolicy::Random; break;
    case cluster::Cluster::RING_HASH: out.lb_policy = config::LbPolicy::RingHash; break;
    case cluster::Cluster::MAGLEV: out.lb_policy = config::LbPolicy::Maglev; break;
    case cluster::Cluster::LOAD_BALANCING_POLICY_CONFIG: break;  // below
    default:
      return {"lb_policy", "unsupported load balancing policy " +
                               enumText(cluster::Cluster::LbPolicy_Name(in.lb_policy()), in.lb_policy()) +
                               " (Sluice takes ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV)"};
  }
  if (in.has_load_balancing_policy()) {
    if (auto e = typedLbPolicyFromEnvoy(in.load_balancing_policy(), out); !e.empty()) return e;
  } else if (in.lb_policy() == cluster::Cluster::LOAD_BALANCING_POLICY_CONFIG) {
    return {"load_balancing_policy", "missing (lb_policy is LOAD_BALANCING_POLICY_CONFIG)"};
  }
  if (in.has_ring_hash_lb_config()) {
    const auto& r = in.ring_hash_lb_config();
    if (r.has_minimum_ring_size())
      if (auto e = rangeFromEnvoy(r.minimum_ring_size().value(), "ring_hash_lb_config.minimum_ring_size",
                                  out.ring_hash_minimum_ring_size, 1, 8u << 20);
          !e.empty())
        return e;
    if (r.has_maximum_ring_size())
      if (auto e = rangeFromEnvoy(r.maximum_ring_size().value(), "ring_hash_lb_config.maximum_ring_size",
                                  out.ring_hash_maximum_ring_size, 1, 8u << 20);
          !e.empty())
        return e;
    if (out.ring_hash_maximum_ring_size < out.ring_hash_minimum_ring_size)
      return {"ring_hash_lb_config.maximum_ring_size", "must not be less than minimum_ring_size"};
  }
  if (in.has_maglev_lb_config() && in.maglev_lb_config().has_table_size()) {
    const uint64_t n = in.maglev_lb_config().table_size().value();
    bool prime = n >= 2;
    for (uint64_t d = 2; prime && d * d <= n; ++d) prime = n % d != 0;
    if (!prime || n < 3 || n > 5000011)
      return {"maglev_lb_config.table_size", "must be a prime from 3 to 5000011 (e.g. 65537), got " + std::to_string(n)};
    out.maglev_table_size = static_cast<uint32_t>(n);
  }
  if (in.has_least_request_lb_config() && in.least_request_lb_config().has_choice_count())
    if (auto e = rangeFromEnvoy(in.least_request_lb_config().choice_count().value(),
                                "least_request_lb_config.choice_count", out.least_request_choice_count, 2, 100);
        !e.empty())
      return e;
  if (in.has_original_dst_lb_config()) return {"original_dst_lb_config", "not supported"};
  if (in.has_lb_subset_config() && in.lb_subset_config().subset_selectors_size() > 0)
    return {"lb_subset_config", "subset load balancing is not supported"};
  if (in.has_common_lb_config() && in.common_lb_config().has_healthy_panic_threshold()) {
    const double v = in.common_lb_config().healthy_panic_threshold().value();
    if (!(v >= 0 && v <= 100) || v != std::floor(v))
      return {"common_lb_config.healthy_panic_threshold",
              "expected a whole percent from 0 to 100, got " + numberText(v)};
    out.panic_threshold_percent = static_cast<uint32_t>(v);
  }
  return {};
}

FieldError hashPolicyFromSluice(const StructFields& sluice, std::vector<config::HashPolicyConfig>& out) {
  const auto* v = sluice.value("hash_policy");
  if (v == nullptr) return {};
  const std::string path = sluice.pathOf("hash_policy");
  if (v->kind_case() != google::protobuf::Value::kListValue) return {path, "expected a list"};
  for (int i = 0; i < v->list_value().values_size(); ++i) {
    const auto& item = v->list_value().values(i);
    const std::string ip = indexPath(path, i);
    if (item.kind_case() != google::protobuf::Value::kStructValue || item.struct_value().fields_size() != 1)
      return {ip, "expected one of {header}, {cookie}, {query_parameter}, {source_ip: true}"};
    const auto& [key, val] = *item.struct_value().fields().begin();
    config::HashPolicyConfig h;
    if (key == "source_ip") {
      if (val.kind_case() != google::protobuf::Value::kBoolValue || !val.bool_value())
        return {fieldPath(ip, key), "expected true"};
      h.kind = config::HashPolicyConfig::Kind::SourceIp;
    } else {
      if (key == "header") h.kind = config::HashPolicyConfig::Kind::Header;
      else if (key == "cookie") h.kind = config::HashPolicyConfig::Kind::Cookie;
      else if (key == "query_parameter") h.kind = config::HashPolicyConfig::Kind::QueryParameter;
      else return {fieldPath(ip, key), "unknown hash source (header, cookie, query_parameter, source_ip)"};
      if (val.kind_case() != google::protobuf::Value::kStringValue || val.string_value().empty())
        return {fieldPath(ip, key), "expected a non-empty name"};
      h.name = val.string_value();
      if (h.kind == config::HashPolicyConfig::Kind::Header)
        std::transform(h.name.begin(), h.name.end(), h.name.begin(), [](unsigned char c) { return std::tolower(c); });
    }
    out.push_back(std::move(h));
  }
  return {};
}

FieldError discoveryFromEnvoy(const cluster::Cluster& in, config::ClusterConfig& out,
                              std::optional<config::ClusterLoadAssignmentSpec>& inline_endpoints,
                              std::optional<uint32_t>& inline_overprovisioning) {
  if (in.cluster_discovery_type_case() == cluster::Cluster::kClusterType)
    return {"cluster_type", "unsupported custom cluster type '" + in.cluster_type().name() +
                                "' (Sluice takes EDS, STATIC and ORIGINAL_DST)"};
  // The model names a cluster's endpoints; EDS's service_name defaults to the cluster's.
  out.load_assignment = in.name();
  switch (in.type()) {
    case cluster::Cluster::EDS: {
      const auto& eds = in.eds_cluster_config();
      if (!eds.has_eds_config()) return {"eds_cluster_config.eds_config", "missing"};
      if (auto e = adsSourceFromEnvoy(eds.eds_config(), "eds_cluster_config.eds_config", "endpoints"); !e.empty())
        return e;
      if (!eds.service_name().empty()) out.load_assignment = eds.service_name();
      return {};
    }
    case cluster::Cluster::ORIGINAL_DST:
      if (in.has_load_assignment())
        return {"load_assignment", "an ORIGINAL_DST cluster connects to each connection's original destination: no endpoints"};
      if (in.health_checks_size() > 0) return {"health_checks", "an ORIGINAL_DST cluster has no hosts to check"};
      if (in.has_outlier_detection()) return {"outlier_detection", "an ORIGINAL_DST cluster has no hosts to eject"};
      out.type = config::ClusterType::OriginalDst;
      out.load_assignment.clear();
      return {};
    case cluster::Cluster::STATIC: {
      config::ClusterLoadAssignmentSpec a;
      // Named after the cluster whatever it says (an inline one needs no name).
      envoy_endpoint::ClusterLoadAssignment named = in.load_assignment();
      named.set_cluster_name(in.name());
      if (auto e = loadAssignmentFromEnvoy(named, a, inline_overprovisioning); !e.empty()) {
        e.path = e.path.empty() ? "load_assignment" : fieldPath("load_assignment", e.path);
        return e;
      }
      inline_endpoints = std::move(a);
      return {};
    }
    default:
      return {"type", "unsupported cluster discovery type " +
                          enumText(cluster::Cluster::DiscoveryType_Name(in.type()), in.type()) +
                          " (Sluice takes EDS, STATIC and ORIGINAL_DST)"};
  }
}

}  // namespace

FieldError clusterFromEnvoy(const cluster::Cluster& in, config::ClusterConfig& out,
                            std::optional<config::ClusterLoadAssignmentSpec>& inline_endpoints) {
  out = config::ClusterConfig{};
  inline_endpoints.reset();
  if (in.name().empty()) return {"name", "missing"};
  out.name = in.name();

  StructFields sluice(nullptr, kSluicePath);
  if (const auto& fm = in.metadata().filter_metadata(); fm.contains(std::string(kSluiceMetadataKey)))
    sluice = StructFields(&fm.at(std::string(kSluiceMetadataKey)), kSluicePath);
  if (auto e = sluice.onlyKeys({"overprovisioning_factor", "max_pending_requests", "hash_policy", "outlier_detection",
                                "http2"});
      !e.empty())
    return e;

  std::optional<uint32_t> inline_overprovisioning;
  if (auto e = discoveryFromEnvoy(in, out, inline_endpoints, inline_overprovisioning); !e.empty()) return e;
  if (in.has_connect_timeout())
    if (auto e = positiveDurationFromEnvoy(in.connect_timeout(), "connect_timeout", out.connect_timeout); !e.empty())
      return e;
  if (auto e = lbFromEnvoy(in, out); !e.empty()) return e;

  if (in.health_checks_size() > 1)
    return {"health_checks", "Sluice runs one active health check per cluster; got " +
                                 std::to_string(in.health_checks_size())};
  if (in.health_checks_size() == 1) {
    config::HealthCheckConfig hc;
    if (auto e = healthCheckFromEnvoy(in.health_checks(0), "health_checks[0]", hc); !e.empty()) return e;
    out.health_check = std::move(hc);
  }
  if (in.has_outlier_detection()) {
    StructFields od;
    if (auto e = sluice.child("outlier_detection", od); !e.empty()) return e;
    config::OutlierDetectionConfig o;
    if (auto e = outlierDetectionFromEnvoy(in.outlier_detection(), "outlier_detection", od, o); !e.empty()) return e;
    out.outlier_detection = o;
  }
  // Envoy limits retries by max_retries unless a priority gives a budget.
  out.circuit_breakers.normal.retry_budget.reset();
  out.circuit_breakers.high.retry_budget.reset();
  if (in.has_circuit_breakers())
    if (auto e = circuitBreakersFromEnvoy(in.circuit_breakers(), "circuit_breakers", out); !e.empty()) return e;

  StructFields h2;
  if (auto e = sluice.child("http2", h2); !e.empty()) return e;
  if (auto e = protocolFromEnvoy(in, h2, out); !e.empty()) return e;

  if (in.transport_socket_matches_size() > 0)
    return {"transport_socket_matches", "per-endpoint transport sockets are not supported"};
  if (in.has_transport_socket()) {
    const auto& ts = in.transport_socket();
    const auto& any = ts.typed_config();
    if (any.Is<envoy_tls::UpstreamTlsContext>()) {
      envoy_tls::UpstreamTlsContext ctx;
      if (!any.UnpackTo(&ctx)) return {"transport_socket.typed_config", "cannot decode the UpstreamTlsContext"};
      config::UpstreamTlsConfig tls;
      if (auto e = upstreamTlsFromEnvoy(ctx, tls); !e.empty()) {
        e.path = e.path.empty() ? "transport_socket.typed_config" : fieldPath("transport_socket.typed_config", e.path);
        return e;
      }
      out.tls = std::move(tls);
    } else if (!(ts.has_typed_config() &&
                 any.type_url().ends_with("/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer")) &&
               !(!ts.has_typed_config() && ts.name() == "envoy.transport_sockets.raw_buffer")) {
      return {"transport_socket", "unsupported transport socket '" + ts.name() + "' (" + any.type_url() +
                                      "); Sluice takes TLS (UpstreamTlsContext) and raw_buffer"};
    }
  }
  if (in.has_upstream_config()) return {"upstream_config", "custom upstreams are not supported"};
  if (in.filters_size() > 0) return {"filters", "upstream network filters are not supported"};
// Reading the deprecated fields is the point here: older servers still send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (in.protocol_selection() == cluster::Cluster::USE_DOWNSTREAM_PROTOCOL)
    return {"protocol_selection", "Sluice does not follow the downstream protocol"};
#pragma GCC diagnostic pop


  // Sluice-only values.
  if (inline_overprovisioning) {
    if (*inline_overprovisioning < 100 || *inline_overprovisioning > 1000)
      return {"load_assignment.policy.overprovisioning_factor",
              std::to_string(*inline_overprovisioning) + " is out of range (100 to 1000)"};
    out.overprovisioning_factor_percent = *inline_overprovisioning;
  }
  if (auto e = sluice.uint32("overprovisioning_factor", out.overprovisioning_factor_percent, 100, 1000); !e.empty())
    return e;
  if (auto e = sluice.uint32("max_pending_requests", out.max_pending_requests, 0, 1u << 20); !e.empty()) return e;
  if (auto e = hashPolicyFromSluice(sluice, out.hash_policy); !e.empty()) return e;
  if (!out.hash_policy.empty() && out.lb_policy != config::LbPolicy::RingHash &&
      out.lb_policy != config::LbPolicy::Maglev)
    return {sluice.pathOf("hash_policy"), "hash_policy needs lb_policy RING_HASH or MAGLEV"};

  // As config/cluster_reader.cc: a TLS cluster offers by ALPN what its
  // protocol speaks, unless the context names protocols itself.
  if (out.tls && out.tls->alpn.empty()) {
    if (out.protocol == config::UpstreamProtocol::Http2) out.tls->alpn = {"h2"};
    if (out.protocol == config::UpstreamProtocol::Auto) out.tls->alpn = {"h2", "http/1.1"};
  }
  if (out.health_check && out.tls) {
    const auto& hc = *out.health_check;
    const bool h2 = hc.grpc || (hc.http && hc.http->codec == config::HealthCheckConfig::Codec::Http2);
    if (h2 && std::find(out.tls->alpn.begin(), out.tls->alpn.end(), "h2") == out.tls->alpn.end())
      return {hc.grpc ? "health_checks[0].grpc_health_check" : "health_checks[0].http_health_check",
              "an HTTP/2 check of a TLS cluster needs h2 in the TLS context's alpn_protocols"};
  }
  return {};
}

FieldError clusterFromEnvoy(const cluster::Cluster& in, config::ClusterConfig& out) {
  std::optional<config::ClusterLoadAssignmentSpec> dropped;
  return clusterFromEnvoy(in, out, dropped);
}

}  // namespace sluice::xds
