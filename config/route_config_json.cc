// RouteConfig as JSON: /config_dump, and the canonical form that tells a
// reload whether a route table changed.
#include "config/config_json.h"
#include "config/route_config.h"

namespace sluice::config {
namespace {

nlohmann::json matchJson(const RouteMatch& m) {
  nlohmann::json j;
  switch (m.path_kind) {
    case RouteMatch::PathKind::Prefix: j["prefix"] = m.path; break;
    case RouteMatch::PathKind::Exact: j["path"] = m.path; break;
    case RouteMatch::PathKind::Regex: j["regex"] = m.path; break;
  }
  j["case_sensitive"] = m.case_sensitive;
  if (!m.methods.empty()) j["methods"] = m.methods;
  nlohmann::json hs = nlohmann::json::array();
  for (const auto& h : m.headers) hs.push_back(headerMatcherJson(h));
  if (!hs.empty()) j["headers"] = hs;
  nlohmann::json qs = nlohmann::json::array();
  for (const auto& q : m.query_parameters) qs.push_back(queryParameterMatcherJson(q));
  if (!qs.empty()) j["query_parameters"] = qs;
  return j;
}

void addRetryPolicy(nlohmann::json& j, const std::optional<RetryPolicy>& p) {
  if (p) j["retry_policy"] = retryPolicyJson(*p);
}

void addPerFilterConfig(nlohmann::json& j, const PerFilterConfigs& list) {
  if (list.empty()) return;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& p : list) m[p.name] = p.spec ? p.spec->toJson() : nlohmann::json();
  j["per_filter_config"] = m;
}

nlohmann::json actionJson(const RouteAction& a) {
  nlohmann::json rj;
  if (a.weighted_clusters.empty()) {
    rj["cluster"] = a.cluster;
  } else {
    nlohmann::json w = nlohmann::json::array();
    for (const auto& c : a.weighted_clusters) w.push_back({{"name", c.name}, {"weight", c.weight}});
    rj["weighted_clusters"] = w;
  }
  if (a.prefix_rewrite) rj["prefix_rewrite"] = *a.prefix_rewrite;
  if (a.host_rewrite) rj["host_rewrite"] = *a.host_rewrite;
  rj["timeout"] = durationString(a.timeout);
  if (a.max_grpc_timeout.count() > 0) rj["max_grpc_timeout"] = durationString(a.max_grpc_timeout);
  if (a.high_priority) rj["priority"] = "high";
  addRetryPolicy(rj, a.retry_policy);
  if (!a.hash_policy.empty()) rj["hash_policy"] = toJson(a.hash_policy);
  return rj;
}

nlohmann::json redirectJson(const RedirectAction& a) {
  nlohmann::json rj = {{"response_code", a.response_code}, {"strip_query", a.strip_query}};
  if (a.scheme_redirect) rj["scheme_redirect"] = *a.scheme_redirect;
  if (a.host_redirect) rj["host_redirect"] = *a.host_redirect;
  if (a.path_redirect) rj["path_redirect"] = *a.path_redirect;
  if (a.prefix_rewrite) rj["prefix_rewrite"] = *a.prefix_rewrite;
  return rj;
}

nlohmann::json routeJson(const Route& r) {
  nlohmann::json j = {{"name", r.name}, {"match", matchJson(r.match)}};
  if (r.route) j["route"] = actionJson(*r.route);
  if (r.redirect) j["redirect"] = redirectJson(*r.redirect);
  if (r.direct_response) {
    const auto& a = *r.direct_response;
    j["direct_response"] = {{"status", a.status}, {"body", a.body}, {"content_type", a.content_type}};
  }
  if (!r.headers.empty()) j.update(headerMutationJson(r.headers));
  addPerFilterConfig(j, r.per_filter_config);
  return j;
}

}  // namespace

nlohmann::json RouteConfig::toJson() const {
  nlohmann::json vhs = nlohmann::json::array();
  for (const auto& vh : virtual_hosts) {
    nlohmann::json routes = nlohmann::json::array();
    for (const auto& r : vh.routes) routes.push_back(routeJson(r));
    nlohmann::json v = {{"name", vh.name}, {"domains", vh.domains}, {"routes", routes}};
    v.update(headerMutationJson(vh.headers));
    addPerFilterConfig(v, vh.per_filter_config);
    addRetryPolicy(v, vh.retry_policy);
    vhs.push_back(v);
  }
  nlohmann::json j = {{"virtual_hosts", vhs}};
  j.update(headerMutationJson(headers));
  return j;
}

}  // namespace sluice::config
