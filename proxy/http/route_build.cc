// A runtime route table from its spec: what reading left as plain data
// (regex patterns, per-filter specs) becomes the objects matching uses.
#include "proxy/http/route_config.h"

namespace sluice::http {
namespace {

PerFilterConfigs buildPerFilter(const config::PerFilterConfigs& specs) {
  PerFilterConfigs out;
  out.reserve(specs.size());
  // The reader only keeps entries whose filter it knows, so the factory exists.
  for (const auto& p : specs)
    if (p.spec) out.push_back({p.name, findHttpFilter(p.name)->build(*p.spec)});
  return out;
}

std::optional<RetryPolicy> buildRetry(const std::optional<config::RetryPolicy>& spec) {
  if (!spec) return std::nullopt;
  return RetryPolicy::build(*spec);
}

RouteMatch buildMatch(const config::RouteMatch& spec) {
  RouteMatch m;
  m.path_kind = spec.path_kind;
  m.path = spec.path;
  if (spec.path_kind == RouteMatch::PathKind::Regex) m.path_regex = compileRegex(spec.path, spec.case_sensitive);
  m.case_sensitive = spec.case_sensitive;
  m.methods = spec.methods;
  m.headers = buildAll<HeaderMatcher>(spec.headers);
  m.query_parameters = buildAll<QueryParameterMatcher>(spec.query_parameters);
  return m;
}

RouteAction buildAction(const config::RouteAction& spec) {
  RouteAction a;
  a.cluster = spec.cluster;
  a.weighted_clusters = spec.weighted_clusters;
  a.prefix_rewrite = spec.prefix_rewrite;
  a.host_rewrite = spec.host_rewrite;
  a.timeout = spec.timeout;
  a.max_grpc_timeout = spec.max_grpc_timeout;
  a.high_priority = spec.high_priority;
  a.retry_policy = buildRetry(spec.retry_policy);
  a.hash_policy = spec.hash_policy;
  return a;
}

Route buildRoute(const config::Route& spec) {
  Route r;
  r.name = spec.name;
  r.match = buildMatch(spec.match);
  if (spec.route) r.route = buildAction(*spec.route);
  r.redirect = spec.redirect;
  r.direct_response = spec.direct_response;
  r.headers = HeaderMutation(spec.headers);
  r.per_filter_config = buildPerFilter(spec.per_filter_config);
  return r;
}

}  // namespace

RetryPolicy RetryPolicy::build(const config::RetryPolicy& spec) {
  RetryPolicy p;
  p.retry_on = spec.retry_on;
  p.num_retries = spec.num_retries;
  p.per_try_timeout = spec.per_try_timeout;
  p.base_interval = spec.base_interval;
  p.max_interval = spec.max_interval;
  p.retriable_status_codes = spec.retriable_status_codes;
  p.retriable_headers = buildAll<HeaderMatcher>(spec.retriable_headers);
  p.max_request_body_bytes = spec.max_request_body_bytes;
  p.retry_non_idempotent = spec.retry_non_idempotent;
  return p;
}

std::shared_ptr<const RouteConfig> RouteConfig::build(const config::RouteConfig& spec) {
  auto rc = std::make_shared<RouteConfig>();
  rc->headers = HeaderMutation(spec.headers);
  rc->virtual_hosts.reserve(spec.virtual_hosts.size());
  for (const auto& vs : spec.virtual_hosts) {
    VirtualHost& vh = rc->virtual_hosts.emplace_back();
    vh.name = vs.name;
    vh.domains = vs.domains;
    vh.routes.reserve(vs.routes.size());
    for (const auto& r : vs.routes) vh.routes.push_back(buildRoute(r));
    vh.headers = HeaderMutation(vs.headers);
    vh.per_filter_config = buildPerFilter(vs.per_filter_config);
    vh.retry_policy = buildRetry(vs.retry_policy);
  }
  rc->compile();
  return rc;
}

}  // namespace sluice::http
