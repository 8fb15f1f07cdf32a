// Route table compilation and per-request matching. The table is built from
// its spec in route_build.cc.
#include "proxy/http/route_config.h"

#include <re2/re2.h>

#include <algorithm>
#include <cassert>

namespace sluice::http {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Three-way compare of an already-lowercase string with `s` as if `s` were
// lowercased, so the request's authority is never copied. Bytes compare
// unsigned, like std::string, which ordered the table.
int compareLowered(std::string_view lowered, std::string_view s) {
  const size_t n = std::min(lowered.size(), s.size());
  for (size_t i = 0; i < n; ++i) {
    const auto a = static_cast<unsigned char>(lowered[i]);
    const auto b = static_cast<unsigned char>(lower(s[i]));
    if (a != b) return a < b ? -1 : 1;
  }
  return lowered.size() == s.size() ? 0 : lowered.size() < s.size() ? -1 : 1;
}

// "host:port" -> "host"; "[v6]:port" -> "[v6]" (brackets kept, as domains
// name them). Two or more colons outside brackets is a bare IPv6 literal,
// which has no port to strip. A fully qualified "host." is "host": DNS
// resolves both alike, so "admin.example.com." must not slip past the
// virtual host of "admin.example.com" to a catch-all.
std::string_view hostOf(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  std::string_view host = authority;
  const size_t colon = authority.find(':');
  if (colon != std::string_view::npos && authority.find(':', colon + 1) == std::string_view::npos)
    host = authority.substr(0, colon);
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  return host;
}

bool pathEquals(std::string_view a, std::string_view b, bool case_sensitive) {
  return case_sensitive ? a == b : equalsIgnoreCase(a, b);
}

// The first `name` parameter's value ("" for a bare "name"), or nullopt.
std::optional<std::string_view> queryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return std::nullopt;
}

void apply(HeaderMap& h, const std::vector<std::string>& remove, const std::vector<HeaderValueOption>& add) {
  for (const auto& name : remove) h.remove(name);
  for (const auto& o : add) {
    if (o.append) h.add(o.name, o.value);
    else h.set(o.name, o.value);
  }
}

}  // namespace

std::string_view pathWithoutQuery(std::string_view path) { return path.substr(0, path.find('?')); }

std::string_view queryOf(std::string_view path) {
  const size_t q = path.find('?');
  return q == std::string_view::npos ? std::string_view() : path.substr(q + 1);
}

void HeaderMutation::applyToRequest(HeaderMap& h) const {
  apply(h, request_headers_to_remove, request_headers_to_add);
}

void HeaderMutation::applyToResponse(HeaderMap& h) const {
  apply(h, response_headers_to_remove, response_headers_to_add);
}

const HttpFilterConfig* findPerFilterConfig(const PerFilterConfigs& list, std::string_view name) {
  for (const auto& p : list)
    if (p.name == name) return p.config.get();
  return nullptr;
}

bool Route::matches(const HeaderMap& request) const {
  const std::string_view full = request.path();
  const std::string_view path = pathWithoutQuery(full);
  switch (match.path_kind) {
    case RouteMatch::PathKind::Prefix:
      if (path.size() < match.path.size() ||
          !pathEquals(path.substr(0, match.path.size()), match.path, match.case_sensitive))
        return false;
      break;
    case RouteMatch::PathKind::Exact:
      if (!pathEquals(path, match.path, match.case_sensitive)) return false;
      break;
    case RouteMatch::PathKind::Regex:
      assert(match.path_regex != nullptr);
      if (match.path_regex == nullptr || !re2::RE2::FullMatch(path, *match.path_regex)) return false;
      break;
  }
  if (!match.methods.empty() &&
      std::find(match.methods.begin(), match.methods.end(), request.method()) == match.methods.end())
    return false;
  for (const auto& h : match.headers)
    if (!h.matcher.matches(request.get(h.name))) return false;
  const std::string_view query = queryOf(full);
  for (const auto& q : match.query_parameters)
    if (!q.matcher.matches(queryParameter(query, q.name))) return false;
  return true;
}

const std::string& RouteAction::pickCluster(uint64_t random) const {
  if (weighted_clusters.empty()) return cluster;
  assert(total_weight > 0 && "RouteConfig::compile() sums the weights; the parser rejects a zero total");
  if (total_weight == 0) return weighted_clusters.front().name;
  uint64_t r = random % total_weight;
  for (const auto& w : weighted_clusters) {
    if (r < w.weight) return w.name;
    r -= w.weight;
  }
  assert(false && "total_weight is not the sum of the weights");
  return weighted_clusters.back().name;
}

void RouteConfig::compile() {
  exact_.clear();
  wildcards_.clear();
  default_.reset();
  for (size_t i = 0; i < virtual_hosts.size(); ++i) {
    VirtualHost& vh = virtual_hosts[i];
    for (Route& r : vh.routes) {
      if (!r.route) continue;
      uint64_t total = 0;
      for (const auto& w : r.route->weighted_clusters) total += w.weight;
      // Larger totals are config errors, but compile() still runs on them.
      r.route->total_weight = static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
    }
    // On a duplicate (rejected by the parser) the first virtual host keeps it.
    for (const auto& d : vh.domains) {
      std::string domain = lowercase(d);
      if (domain == "*") {
        if (!default_) default_ = i;
      } else if (domain.front() == '*') {
        wildcards_.push_back(Wildcard{domain.substr(1), false, i});
      } else if (domain.back() == '*') {
        domain.pop_back();
        wildcards_.push_back(Wildcard{std::move(domain), true, i});
      } else {
        exact_.emplace_back(std::move(domain), i);
      }
    }
  }
  std::stable_sort(exact_.begin(), exact_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // On equal length a suffix wildcard wins, as in Envoy: "*.example.com"
  // says more about a request than "api.example.*".
  std::stable_sort(wildcards_.begin(), wildcards_.end(), [](const Wildcard& a, const Wildcard& b) {
    if (a.suffix.size() != b.suffix.size()) return a.suffix.size() > b.suffix.size();
    return !a.is_prefix && b.is_prefix;
  });
}

const VirtualHost* RouteConfig::findVirtualHost(std::string_view authority) const {
  const std::string_view host = hostOf(authority);
  const auto it = std::lower_bound(exact_.begin(), exact_.end(), host,
                                   [](const auto& e, std::string_view h) { return compareLowered(e.first, h) < 0; });
  if (it != exact_.end() && compareLowered(it->first, host) == 0) return &virtual_hosts[it->second];
  // A wildcard stands for at least one character, so "*.example.com" does
  // not match "example.com" itself.
  for (const auto& w : wildcards_) {
    if (host.size() <= w.suffix.size()) continue;
    const std::string_view part =
        w.is_prefix ? host.substr(0, w.suffix.size()) : host.substr(host.size() - w.suffix.size());
    if (compareLowered(w.suffix, part) == 0) return &virtual_hosts[w.vhost];
  }
  return default_ ? &virtual_hosts[*default_] : nullptr;
}

const Route* RouteConfig::route(const HeaderMap& request, const VirtualHost** vhost_out) const {
  const VirtualHost* vh = findVirtualHost(request.authority());
  if (vhost_out != nullptr) *vhost_out = vh;
  if (vh == nullptr) return nullptr;
  for (const auto& r : vh->routes)
    if (r.matches(request)) return &r;
  return nullptr;
}

}  // namespace sluice::http
