#pragma once
// Route configuration: plain immutable data compiled once at config load
// (domains split by kind, regexes compiled with RE2), then matched per
// request with no allocation.
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

#include <nlohmann/json.hpp>

#include "config/model.h"
#include "proxy/http/filter.h"
#include "proxy/http/header_map.h"

namespace re2 {
class RE2;
}
namespace sluice::config {
class MapReader;
class ParseContext;
}  // namespace sluice::config

namespace sluice::http {

struct HeaderValueOption {
  std::string name;
  std::string value;
  bool append = false;  // false: replace any existing field of that name
};

// Headers added/removed on the request (before the upstream) or the response.
struct HeaderMutation {
  std::vector<HeaderValueOption> request_headers_to_add;
  std::vector<std::string> request_headers_to_remove;
  std::vector<HeaderValueOption> response_headers_to_add;
  std::vector<std::string> response_headers_to_remove;
  bool empty() const;
  void applyToRequest(HeaderMap& h) const;
  void applyToResponse(HeaderMap& h) const;
};

// An HTTP filter's config for one route or virtual host (`per_filter_config:`),
// overriding the filter's listener-level config there.
struct PerFilterConfig {
  std::string name;  // the filter's registered name
  std::shared_ptr<const config::FilterSpec> spec;
  std::shared_ptr<const HttpFilterConfig> config;
  config::SourceLoc loc;  // of the name, for validation errors
};
using PerFilterConfigs = std::vector<PerFilterConfig>;
const HttpFilterConfig* findPerFilterConfig(const PerFilterConfigs& list, std::string_view name);

struct StringMatcher {
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex, Present };
  Kind kind = Kind::Exact;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;  // Kind::Regex; full match
  bool invert = false;
  // nullopt = absent, which no kind matches; `invert` then flips the result,
  // so an inverted matcher accepts an absent value.
  bool matches(std::optional<std::string_view> v) const;
};

struct HeaderMatcher {
  std::string name;  // matched against the first field of that name
  StringMatcher matcher;
};

struct QueryParameterMatcher {
  std::string name;  // case-sensitive; the first occurrence counts; "a" alone has value ""
  StringMatcher matcher;  // Present: the parameter exists (any value)
};

struct RouteMatch {
  enum class PathKind { Prefix, Exact, Regex };
  PathKind path_kind = PathKind::Prefix;
  std::string path;  // prefix or exact path (compared against :path without the query)
  std::shared_ptr<const re2::RE2> path_regex;  // full match against the path without the query
  bool case_sensitive = true;
  std::vector<std::string> methods;  // empty = any
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParameterMatcher> query_parameters;
};

struct WeightedCluster {
  std::string name;
  uint32_t weight = 0;
  config::SourceLoc loc;  // of `name`, for validation errors
};

// Which failures a retry policy retries (`retry_on`). A failure that
// happened before the request reached the upstream (connect failure) is
// safe to retry for any method; the others only for idempotent ones unless
// the policy opts in.
enum RetryOn : uint32_t {
  kRetryOn5xx = 1 << 0,                   // any 5xx, a reset, connect failure, per-try timeout
  kRetryOnGatewayError = 1 << 1,          // 502/503/504, connect failure, per-try timeout
  kRetryOnReset = 1 << 2,                 // no response: reset, disconnect, connect failure, per-try timeout
  kRetryOnConnectFailure = 1 << 3,        // the connection could not be made
  kRetryOnRefusedStream = 1 << 4,         // the upstream refused the stream unprocessed (HTTP/2)
  kRetryOnRetriable4xx = 1 << 5,          // 409
  kRetryOnRetriableStatusCodes = 1 << 6,  // the listed retriable_status_codes
  kRetryOnRetriableHeaders = 1 << 7,      // a response header matching retriable_headers
};
// "5xx" -> kRetryOn5xx, ...; 0 when unknown.
uint32_t retryOnFlag(std::string_view name);
std::vector<std::string> retryOnNames(uint32_t flags);

// `retry_policy` of a route, or of a virtual host as the default for its routes.
struct RetryPolicy {
  uint32_t retry_on = 0;
  uint32_t num_retries = 1;
  // Each attempt's own timeout (0: none); the route timeout still bounds the
  // whole request, backoff included.
  config::Duration per_try_timeout{0};
  // Full-jitter exponential backoff between attempts (util/backoff.h).
  config::Duration base_interval{std::chrono::milliseconds(25)};
  config::Duration max_interval{std::chrono::milliseconds(250)};  // default 10 x base
  std::vector<uint32_t> retriable_status_codes;
  std::vector<HeaderMatcher> retriable_headers;
  // Request bodies are kept for replay up to this size; a longer one is not retried.
  uint32_t max_request_body_bytes = 64 * 1024;
  // Retry POST/PATCH even after the upstream may have received them.
  bool retry_non_idempotent = false;
};

struct RouteAction {
  std::string cluster;                    // set, or weighted_clusters
  config::SourceLoc cluster_loc;          // for validation errors
  std::vector<WeightedCluster> weighted_clusters;
  uint32_t total_weight = 0;              // sum of weights, computed by RouteConfig::compile()
  std::optional<std::string> prefix_rewrite;
  std::optional<std::string> host_rewrite;
  config::Duration timeout{std::chrono::seconds(15)};  // whole request; 0 = none
  // `priority: high` counts against the cluster's `circuit_breakers.high` limits.
  bool high_priority = false;
  std::optional<RetryPolicy> retry_policy;  // else the virtual host's
  // Picks a cluster: `random` uniformly distributed over uint64. Deterministic:
  // `random % total_weight` indexes the cumulative weights in config order.
  const std::string& pickCluster(uint64_t random) const;
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

  // Builds the domain index and sums the cluster weights; call once after
  // filling virtual_hosts (parseRouteConfig does). A copy stays valid.
  void compile();
  const VirtualHost* findVirtualHost(std::string_view authority) const;
  // The matched route, or null (-> 404).
  const Route* route(const HeaderMap& request, const VirtualHost** vhost_out = nullptr) const;
  // Every cluster a route may send to (for validation).
  std::vector<std::string> referencedClusters() const;
  // Canonical form for /config_dump and reload change detection
  // (implemented in route_config_json.cc).
  nlohmann::json toJson() const;

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

// Reads the four *_headers_to_add/remove keys of a mapping into `out`
// (shared by route_config, virtual hosts, routes and the header_mutation filter).
void parseHeaderMutation(config::MapReader& reader, HeaderMutation& out);

nlohmann::json headerMutationJson(const HeaderMutation& m);

// Parses a `route_config:` mapping; errors go to reader.ctx(). Calls reader.finish().
// Never null: on errors the result holds what could be read (still compiled),
// so validateRouteConfig can report cross-reference errors in the same pass.
std::shared_ptr<const RouteConfig> parseRouteConfig(config::MapReader& reader);
// A route's string and header matchers, for other request matchers (authz):
// one mapping of exact | prefix | suffix | contains | regex | present (plus
// invert), without finish(); and the list under `key` of {name, <matcher>}.
void parseStringMatcher(config::MapReader& reader, StringMatcher& out);
void parseHeaderMatchers(config::MapReader& reader, std::string_view key, std::vector<HeaderMatcher>& out);
nlohmann::json stringMatcherJson(const StringMatcher& m);
nlohmann::json headerMatcherJson(const HeaderMatcher& m);

// Every referenced cluster exists in `whole`; every per_filter_config names a
// filter in `chain` (the listener's http_filters; not checked when
// `check_chain` is false, for a table no listener uses) and passes that
// filter's validation.
void validateRouteConfig(const RouteConfig& rc, const config::Config& whole, std::string_view path,
                         config::ParseContext& ctx, const std::vector<std::string>& chain = {},
                         bool check_chain = true);

// Path without the query string; and the query string (after '?', may be empty).
// Query parameters are matched as sent: not percent-decoded.
std::string_view pathWithoutQuery(std::string_view path);
std::string_view queryOf(std::string_view path);

}  // namespace sluice::http
