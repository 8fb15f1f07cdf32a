// YAML -> config::RouteConfig. Shapes are documented in route_config.h;
// each rule here rejects a config that would otherwise load and then
// silently never match or loop.
#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "config/field_reader.h"
#include "config/route_config.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

// `per_filter_config: {NAME: {...}}`: each entry read by that filter's reader.
void readPerFilterConfig(MapReader& r, PerFilterConfigs& out) {
  const YAML::Node map = r.child("per_filter_config");
  if (!map.IsDefined()) return;
  const std::string path = r.childPath("per_filter_config");
  if (!map.IsMap()) {
    r.ctx().error(map, path, "expected a mapping of filter name to its config");
    return;
  }
  for (const auto& kv : map) {
    const std::string name = kv.first.Scalar();
    const std::string fpath = path + "." + name;
    const HttpFilterReader* reader = findHttpFilterReader(name);
    if (reader == nullptr) {
      r.ctx().error(kv.first, fpath, "unknown http filter '" + name + "'");
      continue;
    }
    MapReader fr(r.ctx(), kv.second, fpath);
    if (!fr.isMap()) continue;
    out.push_back(PerFilterConfig{name, reader->readPerRoute(fr), locOf(kv.first)});
  }
}

}  // namespace

void readRouteMatch(MapReader& r, RouteMatch& m) {
  r.boolean("case_sensitive", m.case_sensitive);
  switch (oneOf(r, {"prefix", "path", "regex"}, /*required=*/true)) {
    case 0:
      m.path_kind = RouteMatch::PathKind::Prefix;
      if (readString(r, "prefix", m.path)) checkAbsolutePath(r, "prefix", m.path);
      break;
    case 1:
      m.path_kind = RouteMatch::PathKind::Exact;
      if (readString(r, "path", m.path)) checkAbsolutePath(r, "path", m.path);
      break;
    case 2:
      m.path_kind = RouteMatch::PathKind::Regex;
      if (readString(r, "regex", m.path)) checkRegex(r, "regex", m.path, m.case_sensitive);
      break;
  }
  for (auto& item : readStrings(r, "methods")) {
    // Methods are case-sensitive, so "get" would never match a real request.
    const bool ok = isHttpToken(item.value) &&
                    std::none_of(item.value.begin(), item.value.end(), [](unsigned char c) { return std::islower(c); });
    if (!ok) r.ctx().error(item.node, item.path, "invalid method '" + item.value + "' (methods are upper case)");
    m.methods.push_back(std::move(item.value));
  }
  readHeaderMatchers(r, "headers", m.headers);
  readQueryParameterMatchers(r, "query_parameters", m.query_parameters);
  r.finish();
}

namespace {

void checkPrefixRewrite(MapReader& r, const RouteMatch& m) {
  if (r.has("prefix_rewrite") && m.path_kind != RouteMatch::PathKind::Prefix)
    r.ctx().error(r.locOf("prefix_rewrite"), r.childPath("prefix_rewrite"), "prefix_rewrite requires a prefix match");
}

void readWeightedClusters(MapReader& r, RouteAction& a) {
  checkListNotEmpty(r, "weighted_clusters");
  uint64_t total = 0;
  r.forEachItem("weighted_clusters", [&](const YAML::Node& item, const std::string& path) {
    MapReader wr(r.ctx(), item, path);
    if (!wr.isMap()) return;
    WeightedCluster w;
    if (readString(wr, "name", w.name, /*required=*/true)) checkNotEmpty(wr, "name", w.name);
    w.loc = wr.locOf("name");
    wr.uint32("weight", w.weight, 0, UINT32_MAX, /*required=*/true);
    wr.finish();
    total += w.weight;
    a.weighted_clusters.push_back(std::move(w));
  });
  if (a.weighted_clusters.empty()) return;
  if (total == 0)
    r.ctx().error(r.locOf("weighted_clusters"), r.childPath("weighted_clusters"),
                  "total weight must be greater than 0");
  else if (total > UINT32_MAX)
    r.ctx().error(r.locOf("weighted_clusters"), r.childPath("weighted_clusters"),
                  "total weight must not exceed " + std::to_string(UINT32_MAX));
}

RouteAction readRouteAction(MapReader& r, const RouteMatch& m) {
  RouteAction a;
  switch (oneOf(r, {"cluster", "weighted_clusters"}, /*required=*/true)) {
    case 0:
      if (readString(r, "cluster", a.cluster)) checkNotEmpty(r, "cluster", a.cluster);
      a.cluster_loc = r.locOf("cluster");
      break;
    case 1:
      readWeightedClusters(r, a);
      break;
  }
  readOptional(r, "prefix_rewrite", a.prefix_rewrite);
  checkPrefixRewrite(r, m);
  if (readOptional(r, "host_rewrite", a.host_rewrite)) checkNotEmpty(r, "host_rewrite", *a.host_rewrite);
  r.duration("timeout", a.timeout);
  r.duration("max_grpc_timeout", a.max_grpc_timeout);
  std::string priority = "normal";
  r.string("priority", priority);
  if (priority != "normal" && priority != "high")
    r.ctx().error(r.locOf("priority"), r.childPath("priority"), "must be normal or high");
  a.high_priority = priority == "high";
  a.retry_policy = readRetryPolicy(r);
  readHashPolicy(r, a.hash_policy);
  r.finish();
  return a;
}

RedirectAction readRedirect(MapReader& r, const RouteMatch& m) {
  RedirectAction a;
  if (readOptional(r, "scheme_redirect", a.scheme_redirect) && a.scheme_redirect != "http" &&
      a.scheme_redirect != "https")
    r.ctx().error(r.locOf("scheme_redirect"), r.childPath("scheme_redirect"), "must be http or https");
  if (readOptional(r, "host_redirect", a.host_redirect)) checkNotEmpty(r, "host_redirect", *a.host_redirect);
  oneOf(r, {"path_redirect", "prefix_rewrite"}, /*required=*/false);
  if (readOptional(r, "path_redirect", a.path_redirect)) checkAbsolutePath(r, "path_redirect", *a.path_redirect);
  readOptional(r, "prefix_rewrite", a.prefix_rewrite);
  checkPrefixRewrite(r, m);
  r.boolean("strip_query", a.strip_query);
  uint32_t code = 301;
  r.uint32("response_code", code, 0, 999);
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
    r.ctx().error(r.locOf("response_code"), r.childPath("response_code"), "must be one of 301, 302, 303, 307, 308");
  else a.response_code = static_cast<int>(code);
  // A redirect to the very same URL would loop the client.
  if (!a.scheme_redirect && !a.host_redirect && !a.path_redirect && !a.prefix_rewrite && !a.strip_query)
    r.ctx().error(r.node(), r.path(),
                  "redirect needs one of scheme_redirect, host_redirect, path_redirect, prefix_rewrite, strip_query");
  r.finish();
  return a;
}

DirectResponseAction readDirectResponse(MapReader& r) {
  DirectResponseAction a;
  uint32_t status = 200;
  r.uint32("status", status, 100, 599);
  a.status = static_cast<int>(status);
  r.string("body", a.body);
  if (readString(r, "content_type", a.content_type)) checkNotEmpty(r, "content_type", a.content_type);
  r.finish();
  return a;
}

Route readRoute(MapReader& r, const std::string& vhost, size_t index) {
  Route route;
  route.name = vhost + "/" + std::to_string(index);
  if (readString(r, "name", route.name)) checkNotEmpty(r, "name", route.name);
  if (const YAML::Node match = r.child("match"); match.IsDefined()) {
    MapReader mr(r.ctx(), match, r.childPath("match"));
    if (mr.isMap()) readRouteMatch(mr, route.match);
  } else {
    r.ctx().error(r.node(), r.childPath("match"), "missing required field");
  }
  const int action = oneOf(r, {"route", "redirect", "direct_response"}, /*required=*/true);
  if (action >= 0) {
    static constexpr std::string_view kActions[] = {"route", "redirect", "direct_response"};
    MapReader ar(r.ctx(), r.child(kActions[action]), r.childPath(kActions[action]));
    if (ar.isMap()) {
      if (action == 0) route.route = readRouteAction(ar, route.match);
      else if (action == 1) route.redirect = readRedirect(ar, route.match);
      else route.direct_response = readDirectResponse(ar);
    }
  }
  readHeaderMutation(r, route.headers);
  readPerFilterConfig(r, route.per_filter_config);
  r.finish();
  return route;
}

// Empty, or a '*' anywhere but alone / first / last, or a port: such a
// domain could never match, since ports are stripped before matching.
std::string domainProblem(std::string_view d) {
  if (d.empty()) return "domain must not be empty";
  if (d == "*") return "";
  const size_t star = d.find('*');
  if (star != std::string_view::npos &&
      ((star != 0 && star != d.size() - 1) || d.find('*', star + 1) != std::string_view::npos))
    return "'*' may only start (\"*.example.com\") or end (\"api.*\") a domain";
  const size_t host_end = d.front() == '[' ? d.find(']') : 0;
  if (host_end == std::string_view::npos) return "unterminated '[' in domain";
  if (d.find(':', host_end) != std::string_view::npos) return "domains are matched without the port; remove it";
  // Requests for "a.example.com." are matched as "a.example.com"; a domain
  // written with the dot would never match.
  if (d.size() > 1 && d.back() == '.') return "domains are matched without the trailing dot; remove it";
  return "";
}

// Domain -> owning virtual host, shared across the whole route config.
using DomainOwners = std::unordered_map<std::string, std::string>;

void readDomains(MapReader& r, VirtualHost& vh, DomainOwners& owners) {
  if (!r.has("domains")) r.ctx().error(r.node(), r.childPath("domains"), "missing required field");
  checkListNotEmpty(r, "domains");
  for (auto& item : readStrings(r, "domains")) {
    if (std::string why = domainProblem(item.value); !why.empty()) r.ctx().error(item.node, item.path, why);
    std::string key = item.value;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto [it, fresh] = owners.emplace(key, vh.name);
    if (!fresh) {
      const std::string& owner = it->second;
      r.ctx().error(item.node, item.path,
                    owner == vh.name ? "duplicate domain '" + item.value + "'"
                    : key == "*"     ? "only one virtual host may use '*' (already in '" + owner + "')"
                                     : "domain '" + item.value + "' is already used by virtual host '" + owner + "'");
    }
    vh.domains.push_back(std::move(item.value));
  }
}

void readVirtualHosts(MapReader& top, RouteConfig& rc) {
  if (!top.has("virtual_hosts")) top.ctx().error(top.node(), top.childPath("virtual_hosts"), "missing required field");
  checkListNotEmpty(top, "virtual_hosts");
  DomainOwners owners;
  std::unordered_map<std::string, std::string> names;  // name -> path of first
  // Items that are not mappings still take their slot, so indices in later
  // (validation) error paths match the file.
  top.forEachItem("virtual_hosts", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    VirtualHost& vh = rc.virtual_hosts.emplace_back();
    if (!r.isMap()) return;
    if (readString(r, "name", vh.name, /*required=*/true)) {
      checkNotEmpty(r, "name", vh.name);
      if (!names.emplace(vh.name, path).second)
        r.ctx().error(r.locOf("name"), r.childPath("name"),
                      "duplicate virtual host name '" + vh.name + "' (first in " + names[vh.name] + ")");
    }
    readDomains(r, vh, owners);
    r.forEachItem("routes", [&](const YAML::Node& ri, const std::string& rpath) {
      MapReader rr(r.ctx(), ri, rpath);
      vh.routes.push_back(rr.isMap() ? readRoute(rr, vh.name, vh.routes.size()) : Route{});
    });
    readHeaderMutation(r, vh.headers);
    readPerFilterConfig(r, vh.per_filter_config);
    vh.retry_policy = readRetryPolicy(r);
    r.finish();
  });
}

}  // namespace

std::shared_ptr<const RouteConfig> readRouteConfig(MapReader& reader) {
  auto rc = std::make_shared<RouteConfig>();
  if (reader.isMap()) {
    readHeaderMutation(reader, rc->headers);
    readVirtualHosts(reader, *rc);
    reader.finish();
  }
  return rc;
}

}  // namespace sluice::config
