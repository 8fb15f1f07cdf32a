#pragma once
// A route table as plain data: what `route_config:` (inline in an `http`
// listener, or under top-level `route_configs:`) says, read and checked but
// not compiled. The proxy builds its runtime table from it (domain index,
// RE2 regexes, per-filter runtime configs) when a snapshot is built:
// proxy/http/route_config.h, which also says how requests are matched.
//
//   route_config:
//     request_headers_to_add: [...]       # header mutations on every route
//     virtual_hosts:
//       - name: api
//         domains: ["api.example.com", "*.example.com", "api.*", "*"]
//         retry_policy: {...}             # default for routes without one
//         per_filter_config: {NAME: {...}}
//         routes:
//           - name: users                 # default "vhost/index"
//             match: {prefix: /api, case_sensitive: true, methods: [GET],
//                     headers: [...], query_parameters: [...]}   # or path:, regex:
//             route: {cluster: users, prefix_rewrite: /, host_rewrite: h, timeout: 15s, max_grpc_timeout: 0,
//                     priority: high, retry_policy: {...}}       # or weighted_clusters:
//             # or redirect: {scheme_redirect, host_redirect, path_redirect,
//             #               prefix_rewrite, strip_query, response_code}
//             # or direct_response: {status, body, content_type}
//             request_headers_to_add: [...]
//             per_filter_config: {NAME: {...}}

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/filter_spec.h"
#include "config/header_mutation.h"
#include "config/matchers.h"
#include "config/model.h"
#include "config/retry_policy.h"

namespace sluice::config {

class MapReader;
class ParseContext;

// An HTTP filter's settings for one route or virtual host
// (`per_filter_config:`), read by that filter's reader (readPerRoute).
struct PerFilterConfig {
  std::string name;  // the filter's registered name
  std::shared_ptr<const FilterSpec> spec;
  SourceLoc loc;  // of the name, for validation errors
};
using PerFilterConfigs = std::vector<PerFilterConfig>;

struct RouteMatch {
  enum class PathKind { Prefix, Exact, Regex };
  PathKind path_kind = PathKind::Prefix;
  // The prefix, the exact path or the regex pattern (compared against :path
  // without the query; a regex must match it whole).
  std::string path;
  bool case_sensitive = true;
  std::vector<std::string> methods;  // empty = any
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParameterMatcher> query_parameters;
};

struct WeightedCluster {
  std::string name;
  uint32_t weight = 0;
  SourceLoc loc;  // of `name`, for validation errors
};

struct RouteAction {
  std::string cluster;                    // set, or weighted_clusters
  SourceLoc cluster_loc;                  // for validation errors
  std::vector<WeightedCluster> weighted_clusters;  // total weight checked to be 1..UINT32_MAX
  std::optional<std::string> prefix_rewrite;
  std::optional<std::string> host_rewrite;
  Duration timeout{std::chrono::seconds(15)};  // whole request; 0 = none
  // A gRPC request's grpc-timeout caps `timeout`; this caps grpc-timeout (0 = no cap).
  Duration max_grpc_timeout{0};
  // `priority: high` counts against the cluster's `circuit_breakers.high` limits.
  bool high_priority = false;
  std::optional<RetryPolicy> retry_policy;  // else the virtual host's
  // Where ring_hash / maglev take the request's key; else the cluster's.
  std::vector<HashPolicyConfig> hash_policy;
};

struct RedirectAction {
  std::optional<std::string> scheme_redirect;
  std::optional<std::string> host_redirect;
  std::optional<std::string> path_redirect;    // replaces the whole path
  std::optional<std::string> prefix_rewrite;   // replaces the matched prefix
  bool strip_query = false;
  int response_code = 301;                     // 301, 302, 303, 307, 308
};

struct DirectResponseAction {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
};

struct Route {
  std::string name;  // for logs/metrics; "vhost/index" when not given
  RouteMatch match;
  // Exactly one of these.
  std::optional<RouteAction> route;
  std::optional<RedirectAction> redirect;
  std::optional<DirectResponseAction> direct_response;
  HeaderMutation headers;
  PerFilterConfigs per_filter_config;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // as configured
  std::vector<Route> routes;
  HeaderMutation headers;
  PerFilterConfigs per_filter_config;
  std::optional<RetryPolicy> retry_policy;  // for routes without their own
};

struct RouteConfig {
  std::vector<VirtualHost> virtual_hosts;
  HeaderMutation headers;  // applied for every route

  // Every cluster a route may send to, once each, in config order.
  std::vector<std::string> referencedClusters() const;
  // Canonical form for /config_dump and reload change detection
  // (route_config_json.cc).
  nlohmann::json toJson() const;
};

// Reads a `route_config:` mapping; errors go to reader.ctx(). Calls
// reader.finish(). Never null: on errors the result holds what could be
// read, so validateRouteConfig can report cross-reference errors in the
// same pass (items that are not mappings keep their slot, so indices in its
// paths match the file).
std::shared_ptr<const RouteConfig> readRouteConfig(MapReader& reader);

// Reads one route's `match:` mapping (prefix | path | regex, case_sensitive,
// methods, headers, query_parameters); calls r.finish(). Other documents
// that hold route matches (sluice-control's mesh routes) read them with it.
void readRouteMatch(MapReader& r, RouteMatch& m);

// Every referenced cluster exists in `whole`; every per_filter_config names a
// filter in `chain` (the listener's http_filters; not checked when
// `check_chain` is false, for a table no listener uses) and passes that
// filter's validation.
void validateRouteConfig(const RouteConfig& rc, const Config& whole, std::string_view path, ParseContext& ctx,
                         const std::vector<std::string>& chain = {}, bool check_chain = true);

}  // namespace sluice::config
