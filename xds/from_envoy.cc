#include "xds/from_envoy.h"

#include <charconv>
#include <unordered_set>

#include "config/loader.h"
#include "config/yaml_reader.h"
#include "xds/cluster_translate.h"
#include "xds/listener_translate.h"
#include "xds/route_translate.h"
#include "xds/type_urls.h"

namespace sluice::xds {
namespace {

using google::protobuf::Any;

// What the received resources translate to, before they join the base.
struct Translated {
  std::vector<config::ListenerConfig> listeners;
  std::vector<config::RouteConfigEntry> route_configs;
  std::vector<config::RouteConfigEntry> inline_route_configs;  // from HTTP filters
  std::vector<config::ClusterConfig> clusters;
  std::vector<config::ClusterLoadAssignmentSpec> load_assignments;
  std::vector<config::ClusterLoadAssignmentSpec> inline_load_assignments;  // of STATIC clusters
  // policy.overprovisioning_factor of received load assignments, by name:
  // applies to every cluster using that assignment.
  std::vector<std::pair<std::string, uint32_t>> overprovisioning;
  std::vector<config::SecretSpec> secrets;
};

std::string message(std::string_view type_url, std::string_view name, const FieldError& e) {
  return std::string(shortTypeName(type_url)) + " '" + std::string(name) + "': " + e.str();
}

// Unpacks `any` as a Message of `type_url`; the error when it is not one.
// Errors name the resource as received (its message cannot tell).
template <class Message>
bool unpack(std::string_view type_url, std::string_view name, const Any& any, Message& m, std::string& error) {
  const std::string who = std::string(shortTypeName(type_url)) + " '" + std::string(name) + "': ";
  if (any.type_url() != type_url) {
    error = who + "resource is a " + any.type_url() + ", not a " + std::string(type_url);
    return false;
  }
  if (!any.UnpackTo(&m)) {
    error = who + "cannot decode the resource";
    return false;
  }
  return true;
}

// Translates one resource into `t`; "" or the error. `name` is what it was
// received as (the message's own name when empty).
std::string translate(std::string_view type_url, std::string_view name, const Any& any, Translated& t) {
  std::string error;
  if (type_url == kListenerType) {
    envoy_listener::Listener m;
    if (!unpack(type_url, name, any, m, error)) return error;
    config::ListenerConfig l;
    std::vector<config::RouteConfigEntry> inline_routes;
    if (auto e = listenerFromEnvoy(m, l, inline_routes); !e.empty())
      return message(type_url, name.empty() ? m.name() : name, e);
    // Validation messages about an inline table name the listener it came in.
    for (auto& r : inline_routes) {
      r.path = "Listener '" + l.name + "': " + r.path;
      t.inline_route_configs.push_back(std::move(r));
    }
    t.listeners.push_back(std::move(l));
    return "";
  }
  if (type_url == kRouteConfigurationType) {
    envoy_route::RouteConfiguration m;
    if (!unpack(type_url, name, any, m, error)) return error;
    config::RouteConfigEntry rc;
    if (auto e = routeConfigFromEnvoy(m, rc); !e.empty()) return message(type_url, name.empty() ? m.name() : name, e);
    t.route_configs.push_back(std::move(rc));
    return "";
  }
  if (type_url == kClusterType) {
    envoy_cluster::Cluster m;
    if (!unpack(type_url, name, any, m, error)) return error;
    config::ClusterConfig c;
    std::optional<config::ClusterLoadAssignmentSpec> endpoints;
    if (auto e = clusterFromEnvoy(m, c, endpoints); !e.empty())
      return message(type_url, name.empty() ? m.name() : name, e);
    t.clusters.push_back(std::move(c));
    if (endpoints) t.inline_load_assignments.push_back(std::move(*endpoints));
    return "";
  }
  if (type_url == kClusterLoadAssignmentType) {
    envoy_endpoint::ClusterLoadAssignment m;
    if (!unpack(type_url, name, any, m, error)) return error;
    config::ClusterLoadAssignmentSpec a;
    std::optional<uint32_t> factor;
    if (auto e = loadAssignmentFromEnvoy(m, a, factor); !e.empty())
      return message(type_url, name.empty() ? m.cluster_name() : name, e);
    if (factor) t.overprovisioning.emplace_back(a.cluster_name, *factor);
    t.load_assignments.push_back(std::move(a));
    return "";
  }
  if (type_url == kSecretType) {
    envoy_tls::Secret m;
    if (!unpack(type_url, name, any, m, error)) return error;
    config::SecretSpec s;
    if (auto e = secretFromEnvoy(m, s); !e.empty()) return message(type_url, name.empty() ? m.name() : name, e);
    t.secrets.push_back(std::move(s));
    return "";
  }
  return "unsupported resource type " + std::string(type_url);
}

// A received resource named like a static one of the bootstrap (or like
// another received one, for route tables given inline) is an error.
template <class T, class Key>
void joinNamed(std::vector<T>& into, std::vector<T>&& received, Key key, std::string_view type_url,
               std::vector<std::string>& errors) {
  std::unordered_set<std::string> names;
  for (const auto& x : into) names.insert(x.*key);
  for (auto& x : received) {
    if (!names.insert(x.*key).second) {
      errors.push_back(std::string(shortTypeName(type_url)) + " '" + x.*key +
                       "': name already used by a static resource of the bootstrap or another received one");
      continue;
    }
    into.push_back(std::move(x));
  }
}

// "listeners[2].http..." -> "Listener 'web': http...", for validation messages.
std::string namedPath(const config::Config& cfg, const std::string& path) {
  const auto rewrite = [&](std::string_view prefix, std::string_view type, auto names) -> std::optional<std::string> {
    if (path.rfind(prefix, 0) != 0) return std::nullopt;
    const size_t close = path.find(']', prefix.size());
    if (close == std::string::npos) return std::nullopt;
    size_t i = 0;
    const char* digits = path.data() + prefix.size();
    if (std::from_chars(digits, path.data() + close, i).ec != std::errc()) return std::nullopt;
    const std::string name = names(i);
    std::string rest = path.substr(close + 1);
    if (!rest.empty() && rest.front() == '.') rest.erase(0, 1);
    return std::string(type) + " '" + name + "'" + (rest.empty() ? "" : ": " + rest);
  };
  if (auto s = rewrite("listeners[", "Listener",
                       [&](size_t i) { return i < cfg.listeners.size() ? cfg.listeners[i].name : "?"; }))
    return *s;
  if (auto s = rewrite("clusters[", "Cluster",
                       [&](size_t i) { return i < cfg.clusters.size() ? cfg.clusters[i].name : "?"; }))
    return *s;
  // A received table's path is "RouteConfiguration 'name'"; validation adds ".virtual_hosts[0]...".
  if (path.rfind("RouteConfiguration '", 0) == 0) {
    const size_t end = path.find("'.", 20);
    if (end != std::string::npos) return path.substr(0, end + 1) + ": " + path.substr(end + 2);
  }
  return path;
}

}  // namespace

AssembleResult assemble(const config::Config& base, const ReceivedResources& received) {
  AssembleResult result;
  Translated t;
  const std::pair<std::string_view, const ResourceMap*> all[] = {
      {kListenerType, &received.listeners},
      {kRouteConfigurationType, &received.route_configs},
      {kClusterType, &received.clusters},
      {kClusterLoadAssignmentType, &received.load_assignments},
      {kSecretType, &received.secrets},
  };
  for (const auto& [type, map] : all)
    for (const auto& [name, any] : *map)
      if (std::string e = translate(type, name, any, t); !e.empty()) result.errors.push_back(std::move(e));
  if (!result.errors.empty()) return result;

  auto cfg = std::make_shared<config::Config>();
  cfg->source_file = base.source_file;
  cfg->bootstrap = base.bootstrap;
  cfg->listeners = base.listeners;
  cfg->route_configs = base.route_configs;
  cfg->clusters = base.clusters;
  cfg->load_assignments = base.load_assignments;
  cfg->secrets = base.secrets;
  joinNamed(cfg->listeners, std::move(t.listeners), &config::ListenerConfig::name, kListenerType, result.errors);
  joinNamed(cfg->route_configs, std::move(t.route_configs), &config::RouteConfigEntry::name, kRouteConfigurationType,
            result.errors);
  joinNamed(cfg->route_configs, std::move(t.inline_route_configs), &config::RouteConfigEntry::name,
            kRouteConfigurationType, result.errors);
  joinNamed(cfg->clusters, std::move(t.clusters), &config::ClusterConfig::name, kClusterType, result.errors);
  joinNamed(cfg->load_assignments, std::move(t.load_assignments), &config::ClusterLoadAssignmentSpec::cluster_name,
            kClusterLoadAssignmentType, result.errors);
  joinNamed(cfg->load_assignments, std::move(t.inline_load_assignments),
            &config::ClusterLoadAssignmentSpec::cluster_name, kClusterLoadAssignmentType, result.errors);
  for (const auto& [assignment, factor] : t.overprovisioning)
    for (auto& c : cfg->clusters)
      if (c.load_assignment == assignment) c.overprovisioning_factor_percent = factor;
  joinNamed(cfg->secrets, std::move(t.secrets), &config::SecretSpec::name, kSecretType, result.errors);

  // Two listeners on one address would fail to bind.
  std::unordered_set<std::string> addresses;
  for (const auto& l : cfg->listeners)
    if (l.address.port() != 0 && !addresses.insert(l.address.str()).second)
      result.errors.push_back("Listener '" + l.name + "': address " + l.address.str() +
                              " is already used by another listener");
  if (!result.errors.empty()) return result;

  config::ParseContext ctx("xds", config::References::WarnAndServe);
  config::validateResources(*cfg, ctx);
  for (const auto& e : ctx.errors()) result.errors.push_back(namedPath(*cfg, e.path) + ": " + e.message);
  for (const auto& w : ctx.warnings()) result.warnings.push_back(namedPath(*cfg, w.path) + ": " + w.message);
  if (result.errors.empty()) result.config = std::move(cfg);
  return result;
}

std::string checkResource(std::string_view type_url, const Any& resource) {
  Translated t;
  return translate(type_url, "", resource, t);
}

}  // namespace sluice::xds
