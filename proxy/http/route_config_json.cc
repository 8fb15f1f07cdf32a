// RouteConfig as JSON: /config_dump, and the canonical form that tells a
// reload whether a listener changed.
#include "config/config_json.h"
#include "proxy/http/route_config.h"

namespace sluice::http {
namespace {

nlohmann::json headerOptions(const std::vector<HeaderValueOption>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& o : v) a.push_back({{"name", o.name}, {"value", o.value}, {"append", o.append}});
  return a;
}

const char* kindName(StringMatcher::Kind k) {
  switch (k) {
    case StringMatcher::Kind::Exact: return "exact";
    case StringMatcher::Kind::Prefix: return "prefix";
    case StringMatcher::Kind::Suffix: return "suffix";
    case StringMatcher::Kind::Contains: return "contains";
    case StringMatcher::Kind::Regex: return "regex";
    case StringMatcher::Kind::Present: return "present";
  }
  return "?";
}

nlohmann::json matcherJson(const std::string& name, const StringMatcher& m) {
  nlohmann::json j = {{"name", name}, {"invert", m.invert}};
  if (m.kind == StringMatcher::Kind::Present) {
    j["present"] = true;
  } else {
    j[kindName(m.kind)] = m.value;
  }
  return j;
}

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
  for (const auto& h : m.headers) hs.push_back(matcherJson(h.name, h.matcher));
  if (!hs.empty()) j["headers"] = hs;
  nlohmann::json qs = nlohmann::json::array();
  for (const auto& q : m.query_parameters) qs.push_back(matcherJson(q.name, q.matcher));
  if (!qs.empty()) j["query_parameters"] = qs;
  return j;
}

void addRetryPolicy(nlohmann::json& j, const std::optional<RetryPolicy>& p) {
  if (!p) return;
  nlohmann::json hs = nlohmann::json::array();
  for (const auto& h : p->retriable_headers) hs.push_back(matcherJson(h.name, h.matcher));
  j["retry_policy"] = {{"retry_on", retryOnNames(p->retry_on)},
                       {"num_retries", p->num_retries},
                       {"per_try_timeout", config::durationString(p->per_try_timeout)},
                       {"retry_back_off",
                        {{"base_interval", config::durationString(p->base_interval)},
                         {"max_interval", config::durationString(p->max_interval)}}},
                       {"retriable_status_codes", p->retriable_status_codes},
                       {"retriable_headers", hs},
                       {"max_request_body_bytes", p->max_request_body_bytes},
                       {"retry_non_idempotent", p->retry_non_idempotent}};
}

void addPerFilterConfig(nlohmann::json& j, const PerFilterConfigs& list) {
  if (list.empty()) return;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& p : list) m[p.name] = p.spec ? p.spec->toJson() : nlohmann::json();
  j["per_filter_config"] = m;
}

nlohmann::json routeJson(const Route& r) {
  nlohmann::json j = {{"name", r.name}, {"match", matchJson(r.match)}};
  if (r.route) {
    const auto& a = *r.route;
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
    rj["timeout"] = config::durationString(a.timeout);
    if (a.high_priority) rj["priority"] = "high";
    addRetryPolicy(rj, a.retry_policy);
    j["route"] = rj;
  }
  if (r.redirect) {
    const auto& a = *r.redirect;
    nlohmann::json rj = {{"response_code", a.response_code}, {"strip_query", a.strip_query}};
    if (a.scheme_redirect) rj["scheme_redirect"] = *a.scheme_redirect;
    if (a.host_redirect) rj["host_redirect"] = *a.host_redirect;
    if (a.path_redirect) rj["path_redirect"] = *a.path_redirect;
    if (a.prefix_rewrite) rj["prefix_rewrite"] = *a.prefix_rewrite;
    j["redirect"] = rj;
  }
  if (r.direct_response) {
    const auto& a = *r.direct_response;
    j["direct_response"] = {{"status", a.status}, {"body", a.body}, {"content_type", a.content_type}};
  }
  if (!r.headers.empty()) j.update(headerMutationJson(r.headers));
  addPerFilterConfig(j, r.per_filter_config);
  return j;
}

}  // namespace

nlohmann::json stringMatcherJson(const StringMatcher& m) {
  nlohmann::json j = matcherJson("", m);
  j.erase("name");
  return j;
}

nlohmann::json headerMatcherJson(const HeaderMatcher& m) { return matcherJson(m.name, m.matcher); }

nlohmann::json headerMutationJson(const HeaderMutation& m) {
  nlohmann::json j = nlohmann::json::object();
  if (!m.request_headers_to_add.empty()) j["request_headers_to_add"] = headerOptions(m.request_headers_to_add);
  if (!m.request_headers_to_remove.empty()) j["request_headers_to_remove"] = m.request_headers_to_remove;
  if (!m.response_headers_to_add.empty()) j["response_headers_to_add"] = headerOptions(m.response_headers_to_add);
  if (!m.response_headers_to_remove.empty()) j["response_headers_to_remove"] = m.response_headers_to_remove;
  return j;
}

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

}  // namespace sluice::http
