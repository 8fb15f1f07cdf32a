#include "proxy/ads/resource_names.h"

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

namespace listener_v3 = envoy::config::listener::v3;
namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

template <class Message>
std::string nameOf(const google::protobuf::Any& any, std::string* error,
                   const std::string& (Message::*field)() const) {
  Message m;
  if (!any.UnpackTo(&m)) {
    *error = "does not parse as " + Message::descriptor()->full_name();
    return {};
  }
  std::string name = (m.*field)();
  if (name.empty()) *error = "has no name";
  return name;
}

void addCommonTls(const tls_v3::CommonTlsContext& c, ReferencedNames& out) {
  for (const auto& s : c.tls_certificate_sds_secret_configs())
    if (!s.name().empty()) out.secrets.insert(s.name());
  if (c.has_validation_context_sds_secret_config() && !c.validation_context_sds_secret_config().name().empty())
    out.secrets.insert(c.validation_context_sds_secret_config().name());
  if (c.has_combined_validation_context()) {
    const auto& v = c.combined_validation_context().validation_context_sds_secret_config();
    if (!v.name().empty()) out.secrets.insert(v.name());
  }
}

void addTransportSocket(const envoy::config::core::v3::TransportSocket& ts, bool downstream, ReferencedNames& out) {
  if (!ts.has_typed_config()) return;
  if (downstream) {
    tls_v3::DownstreamTlsContext d;
    if (ts.typed_config().UnpackTo(&d)) addCommonTls(d.common_tls_context(), out);
  } else {
    tls_v3::UpstreamTlsContext u;
    if (ts.typed_config().UnpackTo(&u)) addCommonTls(u.common_tls_context(), out);
  }
}

void addChain(const listener_v3::FilterChain& chain, ReferencedNames& out) {
  if (chain.has_transport_socket()) addTransportSocket(chain.transport_socket(), /*downstream=*/true, out);
  for (const auto& f : chain.filters()) {
    if (!f.has_typed_config()) continue;
    HttpConnectionManager hcm;
    if (!f.typed_config().Is<HttpConnectionManager>() || !f.typed_config().UnpackTo(&hcm)) continue;
    if (hcm.has_rds() && !hcm.rds().route_config_name().empty()) out.route_configs.insert(hcm.rds().route_config_name());
  }
}

}  // namespace

void ReferencedNames::merge(const ReferencedNames& other) {
  route_configs.insert(other.route_configs.begin(), other.route_configs.end());
  load_assignments.insert(other.load_assignments.begin(), other.load_assignments.end());
  secrets.insert(other.secrets.begin(), other.secrets.end());
}

std::string resourceName(std::string_view type_url, const google::protobuf::Any& any, std::string* error) {
  if (any.type_url() != type_url) {
    *error = "has type " + any.type_url() + " in a " + std::string(xds::shortTypeName(type_url)) + " response";
    return {};
  }
  if (type_url == xds::kListenerType) return nameOf(any, error, &listener_v3::Listener::name);
  if (type_url == xds::kRouteConfigurationType)
    return nameOf(any, error, &envoy::config::route::v3::RouteConfiguration::name);
  if (type_url == xds::kClusterType) return nameOf(any, error, &envoy::config::cluster::v3::Cluster::name);
  if (type_url == xds::kClusterLoadAssignmentType)
    return nameOf(any, error, &envoy::config::endpoint::v3::ClusterLoadAssignment::cluster_name);
  if (type_url == xds::kSecretType) return nameOf(any, error, &tls_v3::Secret::name);
  *error = "has an unsupported type " + std::string(type_url);
  return {};
}

ReferencedNames referencedNames(std::string_view type_url, const google::protobuf::Any& any) {
  ReferencedNames out;
  if (type_url == xds::kListenerType) {
    listener_v3::Listener l;
    if (!any.UnpackTo(&l)) return out;
    for (const auto& chain : l.filter_chains()) addChain(chain, out);
    if (l.has_default_filter_chain()) addChain(l.default_filter_chain(), out);
  } else if (type_url == xds::kClusterType) {
    envoy::config::cluster::v3::Cluster c;
    if (!any.UnpackTo(&c)) return out;
    if (c.has_type() && c.type() == envoy::config::cluster::v3::Cluster::EDS) {
      const auto& service = c.eds_cluster_config().service_name();
      out.load_assignments.insert(service.empty() ? c.name() : service);
    }
    if (c.has_transport_socket()) addTransportSocket(c.transport_socket(), /*downstream=*/false, out);
  }
  return out;
}

}  // namespace sluice::ads
