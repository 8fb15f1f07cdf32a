#pragma once
// A route table at run time: built from its spec (config/route_config.h)
// when a snapshot is built (domains split by kind, regexes compiled with
// RE2, each per_filter_config built by its filter's factory), then matched
// per request with no allocation. Immutable once built.
//
// Matching: pick the virtual host by the request's :authority (port
// stripped, case-insensitive): exact domain first, then the longest
// "*.suffix" / "suffix*" wildcard, then "*" (the default). Within it, the
// first route whose every condition matches wins (path, methods, headers,
// query parameters).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/route_config.h"
#include "proxy/http/filter.h"
#include "proxy/http/header_map.h"
#include "proxy/http/matchers.h"

namespace re2 {
class RE2;
}

namespace sluice::http {

// Plain data the proxy uses as read.
using config::DirectResponseAction;
using config::HeaderValueOption;
using config::RedirectAction;
using config::RetryOn;
using config::WeightedCluster;
using enum config::RetryOn;
using config::retryOnFlag;
using config::retryOnNames;

// The mutation's spec, applied to a request or response.
struct HeaderMutation : config::HeaderMutation {
  HeaderMutation() = default;
  explicit HeaderMutation(const config::HeaderMutation& spec) : config::HeaderMutation(spec) {}
  void applyToRequest(HeaderMap& h) const;
  void applyToResponse(HeaderMap& h) const;
};

// An HTTP filter's runtime config for one route or virtual host
// (`per_filter_config:`), overriding the filter's listener-level config there.
struct PerFilterConfig {
  std::string name;  // the filter's registered name
  std::shared_ptr<const HttpFilterConfig> config;
};
using PerFilterConfigs = std::vector<PerFilterConfig>;
const HttpFilterConfig* findPerFilterConfig(const PerFilterConfigs& list, std::string_view name);

struct RouteMatch {
  using PathKind = config::RouteMatch::PathKind;
  PathKind path_kind = PathKind::Prefix;
  std::string path;  // prefix or exact path (compared against :path without the query)
  std::shared_ptr<const re2::RE2> path_regex;  // full match against the path without the query
  bool case_sensitive = true;
  std::vector<std::string> methods;  // empty = any
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParameterMatcher> query_parameters;
};

// config::RetryPolicy (fields documented there) with its header matchers built.
struct RetryPolicy {
  uint32_t retry_on = 0;
  uint32_t num_retries = 1;
  config::Duration per_try_timeout{0};
  config::Duration base_interval{std::chrono::milliseconds(25)};
  config::Duration max_interval{std::chrono::milliseconds(250)};
  std::vector<uint32_t> retriable_status_codes;
  std::vector<HeaderMatcher> retriable_headers;
  uint32_t max_request_body_bytes = 64 * 1024;
  bool retry_non_idempotent = false;

  static RetryPolicy build(const config::RetryPolicy& spec);
};

struct RouteAction {
  std::string cluster;  // set, or weighted_clusters
  std::vector<WeightedCluster> weighted_clusters;
  uint32_t total_weight = 0;  // sum of weights, computed by RouteConfig::compile()
  std::optional<std::string> prefix_rewrite;
  std::optional<std::string> host_rewrite;
  config::Duration timeout{std::chrono::seconds(15)};  // whole request; 0 = none
  // A gRPC request's grpc-timeout caps `timeout`; this caps grpc-timeout (0 = no cap).
  config::Duration max_grpc_timeout{0};
  // `priority: high` counts against the cluster's `circuit_breakers.high` limits.
  bool high_priority = false;
  std::optional<RetryPolicy> retry_policy;  // else the virtual host's
  std::vector<config::HashPolicyConfig> hash_policy;  // else the cluster's
  // Picks a cluster: `random` uniformly distributed over uint64. Deterministic:
  // `random % total_weight` indexes the cumulative weights in config order.
  const std::string& pickCluster(uint64_t random) const;
};

struct Route {
  std::string name;  // for logs/metrics
  RouteMatch match;
  // Exactly one of these.
  std::optional<RouteAction> route;
  std::optional<RedirectAction> redirect;
  std::optional<DirectResponseAction> direct_response;
  HeaderMutation headers;
  PerFilterConfigs per_filter_config;
  bool matches(const HeaderMap& request) const;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // as configured
  std::vector<Route> routes;
  HeaderMutation headers;
  PerFilterConfigs per_filter_config;
  std::optional<RetryPolicy> retry_policy;  // for routes without their own
};

class RouteConfig {
 public:
  std::vector<VirtualHost> virtual_hosts;
  HeaderMutation headers;  // applied for every route

  // The runtime table for a spec the config reader read and validated
  // (route_build.cc). Main thread, when a snapshot is built.
  static std::shared_ptr<const RouteConfig> build(const config::RouteConfig& spec);

  // Builds the domain index and sums the cluster weights; call once after
  // filling virtual_hosts (build() does). A copy stays valid.
  void compile();
  const VirtualHost* findVirtualHost(std::string_view authority) const;
  // The matched route, or null (-> 404).
  const Route* route(const HeaderMap& request, const VirtualHost** vhost_out = nullptr) const;

 private:
  // Indices into virtual_hosts rather than pointers, so copies stay valid.
  struct Wildcard {
    std::string suffix;  // "*.example.com" -> ".example.com"; "foo.*" -> prefix "foo."
    bool is_prefix;
    size_t vhost;
  };
  std::vector<std::pair<std::string, size_t>> exact_;  // lowercase domain, sorted
  std::vector<Wildcard> wildcards_;  // longest first; suffix before prefix on a tie
  std::optional<size_t> default_;
};

// Path without the query string; and the query string (after '?', may be empty).
// Query parameters are matched as sent: not percent-decoded.
std::string_view pathWithoutQuery(std::string_view path);
std::string_view queryOf(std::string_view path);

}  // namespace sluice::http
