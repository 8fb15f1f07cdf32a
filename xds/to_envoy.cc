#include "xds/to_envoy.h"

#include <cctype>
#include <map>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "xds/cluster_translate.h"
#include "xds/http_connection_translate.h"
#include "xds/http_filters_translate.h"
#include "xds/listener_translate.h"
#include "xds/route_translate.h"
#include "xds/type_urls.h"

namespace sluice::xds {
namespace {

template <class Message>
void add(ResourcesByType& out, std::string_view type, const std::string& name, const Message& m) {
  Resource r;
  r.name = name;
  r.body.PackFrom(m);
  out[std::string(type)].push_back(std::move(r));
}

// "echo:50051" -> "echo"; a name without a port (or a bare IPv6 address) as it is.
std::string_view withoutPort(std::string_view name) {
  const auto colon = name.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == name.size()) return name;
  if (name.find(':') != colon && name.front() != '[') return name;  // IPv6 without brackets
  for (char c : name.substr(colon + 1))
    if (!std::isdigit(static_cast<unsigned char>(c))) return name;
  return name.substr(0, colon);
}

}  // namespace

ResourcesByType toEnvoy(const config::Config& cfg) {
  ResourcesByType out;
  for (const auto& l : cfg.listeners) {
    envoy_listener::Listener m;
    listenerToEnvoy(l, m);
    add(out, kListenerType, l.name, m);
  }
  // Routes go out with their cluster's hash policy when they have none.
  std::map<std::string_view, const std::vector<config::HashPolicyConfig>*, std::less<>> hash_policies;
  for (const auto& c : cfg.clusters) hash_policies.emplace(c.name, &c.hash_policy);
  const ClusterHashPolicies by_cluster = [&](std::string_view name) -> const std::vector<config::HashPolicyConfig>* {
    const auto it = hash_policies.find(name);
    return it == hash_policies.end() ? nullptr : it->second;
  };
  for (const auto& rc : cfg.route_configs) {
    envoy_route::RouteConfiguration m;
    routeConfigToEnvoy(rc, m, by_cluster);
    add(out, kRouteConfigurationType, rc.name, m);
  }
  for (const auto& c : cfg.clusters) {
    envoy_cluster::Cluster m;
    clusterToEnvoy(c, m);
    add(out, kClusterType, c.name, m);
  }
  for (const auto& a : cfg.load_assignments) {
    envoy_endpoint::ClusterLoadAssignment m;
    // Envoy keeps overprovisioning on the endpoints: the factor of the
    // (first) cluster using them.
    const config::ClusterConfig* user = nullptr;
    for (const auto& c : cfg.clusters)
      if (c.load_assignment == a.cluster_name && user == nullptr) user = &c;
    if (user != nullptr) loadAssignmentToEnvoy(a, user->overprovisioning_factor_percent, m);
    else loadAssignmentToEnvoy(a, m);
    add(out, kClusterLoadAssignmentType, a.cluster_name, m);
  }
  for (const auto& s : cfg.secrets) {
    envoy_tls::Secret m;
    secretToEnvoy(s, m);
    add(out, kSecretType, s.name, m);
  }
  return out;
}

std::optional<Resource> proxylessListener(const config::Config& cfg, std::string_view name) {
  const std::string_view host = withoutPort(name);
  for (const auto& rc : cfg.route_configs) {
    for (const auto& vh : rc.spec->virtual_hosts) {
      for (const auto& d : vh.domains) {
        if (d != name && d != host) continue;
        envoy_hcm::HttpConnectionManager hcm;
        hcm.set_stat_prefix(std::string(host));
        auto* rds = hcm.mutable_rds();
        rds->mutable_config_source()->mutable_ads();
        rds->mutable_config_source()->set_resource_api_version(envoy::config::core::v3::V3);
        rds->set_route_config_name(rc.name);
        routerToEnvoy(*hcm.add_http_filters());
        envoy_listener::Listener l;
        l.set_name(std::string(name));
        l.mutable_api_listener()->mutable_api_listener()->PackFrom(hcm);
        Resource r;
        r.name = std::string(name);
        r.body.PackFrom(l);
        return r;
      }
    }
  }
  return std::nullopt;
}

}  // namespace sluice::xds
