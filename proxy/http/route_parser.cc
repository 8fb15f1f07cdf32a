// YAML -> RouteConfig, and the cross-reference check against the clusters.
// Shapes are documented in route_config.h; each rule here rejects a config
// that would otherwise load and then silently never match or loop.
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <unordered_map>

#include "config/filter_spec.h"
#include "config/yaml_reader.h"
#include "proxy/http/route_config.h"

namespace sluice::http {
namespace {

using config::MapReader;
using config::ParseContext;

bool isTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return isTokenChar(c); });
}

// Like MapReader::string, but says whether a string was read, so follow-up
// checks run only on real values (absence and bad types are reported already).
bool readString(MapReader& r, std::string_view key, std::string& out, bool required = false) {
  r.string(key, out, required);
  return r.child(key).IsScalar();
}

bool readOptional(MapReader& r, std::string_view key, std::optional<std::string>& out) {
  std::string s;
  if (!readString(r, key, s)) return false;
  out = std::move(s);
  return true;
}

void checkNotEmpty(MapReader& r, std::string_view key, const std::string& value) {
  if (value.empty()) r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
}

void checkAbsolutePath(MapReader& r, std::string_view key, const std::string& value) {
  if (value.empty() || value.front() != '/') r.ctx().error(r.locOf(key), r.childPath(key), "must start with '/'");
}

// Pseudo-headers may be matched on but never added or removed: they carry
// the request line.
void checkHeaderName(MapReader& r, std::string_view key, std::string_view name, bool allow_pseudo) {
  const std::string_view bare = allow_pseudo && name.starts_with(':') ? name.substr(1) : name;
  if (!isToken(bare)) r.ctx().error(r.locOf(key), r.childPath(key), "invalid header name '" + std::string(name) + "'");
}

std::string list(std::initializer_list<std::string_view> keys) {
  std::string s;
  for (auto k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

// Index of the present key among `keys` (marking all of them known), or -1.
// Reports none (when required) and more than one.
int oneOf(MapReader& r, std::initializer_list<std::string_view> keys, bool required) {
  int first = -1;
  int i = 0;
  for (auto k : keys) {
    if (r.child(k).IsDefined()) {
      if (first < 0) first = i;
      else r.ctx().error(r.locOf(k), r.childPath(k), "only one of " + list(keys) + " may be set");
    }
    ++i;
  }
  if (first < 0 && required) r.ctx().error(r.node(), r.path(), "one of " + list(keys) + " is required");
  return first;
}

std::shared_ptr<const re2::RE2> compileRegex(MapReader& r, std::string_view key, const std::string& pattern,
                                             bool case_sensitive) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);  // the error goes into the config error instead
  opts.set_case_sensitive(case_sensitive);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  if (re->ok()) return re;
  r.ctx().error(r.locOf(key), r.childPath(key), "invalid regex: " + re->error());
  return nullptr;
}

struct StringItem {
  std::string value;
  YAML::Node node;
  std::string path;
};

std::vector<StringItem> readStrings(MapReader& r, std::string_view key) {
  std::vector<StringItem> out;
  r.forEachItem(key, [&](const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) out.push_back({n.Scalar(), n, path});
    else r.ctx().error(n, path, "expected a string");
  });
  return out;
}

void checkListNotEmpty(MapReader& r, std::string_view key) {
  const YAML::Node n = r.child(key);
  if (n.IsSequence() && n.size() == 0) r.ctx().error(n, r.childPath(key), "must not be empty");
}

void readHeadersToAdd(MapReader& r, std::string_view key, std::vector<HeaderValueOption>& out) {
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    MapReader hr(r.ctx(), item, path);
    if (!hr.isMap()) return;
    HeaderValueOption o;
    if (readString(hr, "name", o.name, /*required=*/true)) checkHeaderName(hr, "name", o.name, false);
    // CR/LF would let a config smuggle extra header lines onto the wire.
    if (readString(hr, "value", o.value, /*required=*/true) && o.value.find_first_of("\r\n") != std::string::npos)
      hr.ctx().error(hr.locOf("value"), hr.childPath("value"), "header value must not contain CR or LF");
    hr.boolean("append", o.append);
    hr.finish();
    out.push_back(std::move(o));
  });
}

void readHeadersToRemove(MapReader& r, std::string_view key, std::vector<std::string>& out) {
  for (auto& item : readStrings(r, key)) {
    if (!isToken(item.value)) r.ctx().error(item.node, item.path, "invalid header name '" + item.value + "'");
    out.push_back(std::move(item.value));
  }
}

void readHeaderMutation(MapReader& r, HeaderMutation& m) {
  readHeadersToAdd(r, "request_headers_to_add", m.request_headers_to_add);
  readHeadersToRemove(r, "request_headers_to_remove", m.request_headers_to_remove);
  readHeadersToAdd(r, "response_headers_to_add", m.response_headers_to_add);
  readHeadersToRemove(r, "response_headers_to_remove", m.response_headers_to_remove);
}

// `per_filter_config: {NAME: {...}}`: each entry parsed by that filter's factory.
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
    const config::HttpFilterReader* reader = config::findHttpFilterReader(name);
    if (reader == nullptr) {
      r.ctx().error(kv.first, fpath, "unknown http filter '" + name + "'");
      continue;
    }
    MapReader fr(r.ctx(), kv.second, fpath);
    if (!fr.isMap()) continue;
    PerFilterConfig p{name, reader->readPerRoute(fr), nullptr, config::locOf(kv.first)};
    if (p.spec) p.config = findHttpFilter(name)->build(*p.spec);  // transitional: built when read
    out.push_back(std::move(p));
  }
}

// One of exact / prefix / suffix / contains / regex / present, plus invert.
void readStringMatcher(MapReader& r, StringMatcher& m) {
  using Kind = StringMatcher::Kind;
  const int k = oneOf(r, {"exact", "prefix", "suffix", "contains", "regex", "present"}, /*required=*/true);
  r.boolean("invert", m.invert);
  if (k < 0) return;
  static constexpr std::string_view kKeys[] = {"exact", "prefix", "suffix", "contains", "regex"};
  static constexpr Kind kKinds[] = {Kind::Exact, Kind::Prefix, Kind::Suffix, Kind::Contains, Kind::Regex};
  if (k < 5) {
    m.kind = kKinds[k];
    if (readString(r, kKeys[k], m.value, true) && m.kind == Kind::Regex)
      m.regex = compileRegex(r, "regex", m.value, /*case_sensitive=*/true);
    return;
  }
  m.kind = Kind::Present;
  bool present = true;
  r.boolean("present", present);
  // "present: false" next to "invert" would be a double negative; one spelling.
  if (!present)
    r.ctx().error(r.locOf("present"), r.childPath("present"), "must be true (to match absence, add invert: true)");
}

template <class Matcher>
void readMatchers(MapReader& r, std::string_view key, bool allow_pseudo, std::vector<Matcher>& out) {
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    MapReader mr(r.ctx(), item, path);
    if (!mr.isMap()) return;
    Matcher m;
    if (readString(mr, "name", m.name, /*required=*/true)) {
      if (allow_pseudo) checkHeaderName(mr, "name", m.name, true);
      else checkNotEmpty(mr, "name", m.name);
    }
    readStringMatcher(mr, m.matcher);
    mr.finish();
    out.push_back(std::move(m));
  });
}

void readMatch(MapReader& r, RouteMatch& m) {
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
      if (readString(r, "regex", m.path)) m.path_regex = compileRegex(r, "regex", m.path, m.case_sensitive);
      break;
  }
  for (auto& item : readStrings(r, "methods")) {
    // Methods are case-sensitive, so "get" would never match a real request.
    const bool ok = isToken(item.value) &&
                    std::none_of(item.value.begin(), item.value.end(), [](unsigned char c) { return std::islower(c); });
    if (!ok) r.ctx().error(item.node, item.path, "invalid method '" + item.value + "' (methods are upper case)");
    m.methods.push_back(std::move(item.value));
  }
  readMatchers(r, "headers", /*allow_pseudo=*/true, m.headers);
  readMatchers(r, "query_parameters", /*allow_pseudo=*/false, m.query_parameters);
  r.finish();
}

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

// `retry_policy:` of a route or virtual host.
std::optional<RetryPolicy> readRetryPolicy(MapReader& parent) {
  if (!parent.has("retry_policy")) return std::nullopt;
  MapReader r(parent.ctx(), parent.child("retry_policy"), parent.childPath("retry_policy"));
  if (!r.isMap()) return std::nullopt;
  RetryPolicy p;
  // A list, or Envoy's comma-separated string.
  const YAML::Node on = r.child("retry_on");
  auto addName = [&](std::string_view name, const YAML::Node& node, const std::string& path) {
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const uint32_t flag = retryOnFlag(name);
    if (flag == 0) {
      r.ctx().error(node, path,
                    "unknown retry_on '" + std::string(name) +
                        "' (expected 5xx, gateway-error, reset, connect-failure, refused-stream, retriable-4xx, "
                        "retriable-status-codes, retriable-headers)");
    }
    p.retry_on |= flag;
  };
  if (!on.IsDefined()) {
    r.ctx().error(r.node(), r.childPath("retry_on"), "missing required field");
  } else if (on.IsScalar()) {
    std::string_view all = on.Scalar();
    while (!all.empty()) {
      const size_t comma = all.find(',');
      addName(all.substr(0, comma), on, r.childPath("retry_on"));
      all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
    }
  } else {
    for (auto& item : readStrings(r, "retry_on")) addName(item.value, item.node, item.path);
  }
  r.uint32("num_retries", p.num_retries, 0, 10);
  r.duration("per_try_timeout", p.per_try_timeout);
  bool max_set = false;
  if (r.has("retry_back_off")) {
    MapReader br(r.ctx(), r.child("retry_back_off"), r.childPath("retry_back_off"));
    if (br.isMap()) {
      br.duration("base_interval", p.base_interval, /*required=*/true);
      max_set = br.has("max_interval");
      br.duration("max_interval", p.max_interval);
      if (p.base_interval.count() <= 0)
        br.ctx().error(br.locOf("base_interval"), br.childPath("base_interval"), "must be at least 1ms");
      else if (max_set && p.max_interval < p.base_interval)
        br.ctx().error(br.locOf("max_interval"), br.childPath("max_interval"), "must not be less than base_interval");
      br.finish();
    }
  }
  if (!max_set) p.max_interval = p.base_interval * 10;
  r.forEachItem("retriable_status_codes", [&](const YAML::Node& n, const std::string& path) {
    uint32_t code = 0;
    try {
      code = n.as<uint32_t>();
    } catch (const YAML::Exception&) {
    }
    if (code < 100 || code > 599) {
      r.ctx().error(n, path, "expected an HTTP status code (100-599)");
      return;
    }
    p.retriable_status_codes.push_back(code);
  });
  readMatchers(r, "retriable_headers", /*allow_pseudo=*/true, p.retriable_headers);
  if ((p.retry_on & kRetryOnRetriableStatusCodes) && p.retriable_status_codes.empty())
    r.ctx().error(r.locOf("retry_on"), r.childPath("retry_on"),
                  "retriable-status-codes needs a non-empty retriable_status_codes list");
  if ((p.retry_on & kRetryOnRetriableHeaders) && p.retriable_headers.empty())
    r.ctx().error(r.locOf("retry_on"), r.childPath("retry_on"),
                  "retriable-headers needs a non-empty retriable_headers list");
  r.uint32("max_request_body_bytes", p.max_request_body_bytes, 0, 64u << 20);
  r.boolean("retry_non_idempotent", p.retry_non_idempotent);
  r.finish();
  return p;
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
  std::string priority = "normal";
  r.string("priority", priority);
  if (priority != "normal" && priority != "high")
    r.ctx().error(r.locOf("priority"), r.childPath("priority"), "must be normal or high");
  a.high_priority = priority == "high";
  a.retry_policy = readRetryPolicy(r);
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
    if (mr.isMap()) readMatch(mr, route.match);
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

std::shared_ptr<const RouteConfig> parseRouteConfig(MapReader& reader) {
  auto rc = std::make_shared<RouteConfig>();
  if (reader.isMap()) {
    readHeaderMutation(reader, rc->headers);
    readVirtualHosts(reader, *rc);
    reader.finish();
  }
  rc->compile();
  return rc;
}

namespace {

constexpr std::pair<std::string_view, uint32_t> kRetryOnNames[] = {
    {"5xx", kRetryOn5xx},
    {"gateway-error", kRetryOnGatewayError},
    {"reset", kRetryOnReset},
    {"connect-failure", kRetryOnConnectFailure},
    {"refused-stream", kRetryOnRefusedStream},
    {"retriable-4xx", kRetryOnRetriable4xx},
    {"retriable-status-codes", kRetryOnRetriableStatusCodes},
    {"retriable-headers", kRetryOnRetriableHeaders},
};

void validatePerFilterConfig(const PerFilterConfigs& list, const config::Config& whole, const std::string& at,
                             ParseContext& ctx, const std::vector<std::string>& chain, bool check_chain) {
  for (const auto& p : list) {
    const std::string path = at + "per_filter_config." + p.name;
    if (check_chain && std::find(chain.begin(), chain.end(), p.name) == chain.end()) {
      ctx.error(p.loc, path, "filter '" + p.name + "' is not in this listener's http_filters; add it there");
      continue;
    }
    if (p.spec) config::findHttpFilterReader(p.name)->validate(*p.spec, whole, path, ctx);
  }
}

}  // namespace

uint32_t retryOnFlag(std::string_view name) {
  for (const auto& [n, f] : kRetryOnNames)
    if (n == name) return f;
  return 0;
}

std::vector<std::string> retryOnNames(uint32_t flags) {
  std::vector<std::string> out;
  for (const auto& [n, f] : kRetryOnNames)
    if (flags & f) out.emplace_back(n);
  return out;
}

const HttpFilterConfig* findPerFilterConfig(const PerFilterConfigs& list, std::string_view name) {
  for (const auto& p : list)
    if (p.name == name) return p.config.get();
  return nullptr;
}

void validateRouteConfig(const RouteConfig& rc, const config::Config& whole, std::string_view path,
                         ParseContext& ctx, const std::vector<std::string>& chain, bool check_chain) {
  const std::string base = path.empty() ? "" : std::string(path) + ".";
  for (size_t i = 0; i < rc.virtual_hosts.size(); ++i) {
    const std::string vat = base + "virtual_hosts[" + std::to_string(i) + "].";
    validatePerFilterConfig(rc.virtual_hosts[i].per_filter_config, whole, vat, ctx, chain, check_chain);
    const auto& routes = rc.virtual_hosts[i].routes;
    for (size_t j = 0; j < routes.size(); ++j) {
      validatePerFilterConfig(routes[j].per_filter_config, whole, vat + "routes[" + std::to_string(j) + "].", ctx,
                              chain, check_chain);
      if (!routes[j].route) continue;
      const RouteAction& a = *routes[j].route;
      const std::string at =
          base + "virtual_hosts[" + std::to_string(i) + "].routes[" + std::to_string(j) + "].route.";
      if (!a.cluster.empty() && whole.findCluster(a.cluster) == nullptr)
        ctx.missingReference(a.cluster_loc, at + "cluster", "unknown cluster '" + a.cluster + "'");
      for (size_t k = 0; k < a.weighted_clusters.size(); ++k) {
        const WeightedCluster& w = a.weighted_clusters[k];
        if (!w.name.empty() && whole.findCluster(w.name) == nullptr)
          ctx.missingReference(w.loc, at + "weighted_clusters[" + std::to_string(k) + "].name",
                    "unknown cluster '" + w.name + "'");
      }
    }
  }
}

}  // namespace sluice::http

namespace sluice::http {

void parseHeaderMutation(config::MapReader& reader, HeaderMutation& out) { readHeaderMutation(reader, out); }
void parseStringMatcher(config::MapReader& reader, StringMatcher& out) { readStringMatcher(reader, out); }
void parseHeaderMatchers(config::MapReader& reader, std::string_view key, std::vector<HeaderMatcher>& out) {
  readMatchers(reader, key, /*allow_pseudo=*/true, out);
}

}  // namespace sluice::http
