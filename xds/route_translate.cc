#include "xds/route_translate.h"

#include <algorithm>

#include "xds/cluster_metadata.h"
#include "xds/http_filters_translate.h"
#include "xds/route_hash_translate.h"
#include "xds/route_headers_translate.h"
#include "xds/route_matchers_translate.h"
#include "xds/sluice_metadata.h"
#include "xds/unsupported_fields.h"

namespace sluice::xds {
namespace {

using namespace config;
using google::protobuf::Struct;
using nlohmann::json;

// ---- out ----

void headerMutationToEnvoy(const HeaderMutation& m, auto& owner) {
  headersToAddToEnvoy(m.request_headers_to_add, *owner.mutable_request_headers_to_add());
  for (const auto& h : m.request_headers_to_remove) owner.add_request_headers_to_remove(h);
  headersToAddToEnvoy(m.response_headers_to_add, *owner.mutable_response_headers_to_add());
  for (const auto& h : m.response_headers_to_remove) owner.add_response_headers_to_remove(h);
}

// The parts Envoy's RetryPolicy has no field for.
json retryExtras(const RetryPolicy& p) {
  json j = json::object();
  const RetryPolicy def;
  if (p.max_request_body_bytes != def.max_request_body_bytes) j["max_request_body_bytes"] = p.max_request_body_bytes;
  if (p.retry_non_idempotent) j["retry_non_idempotent"] = true;
  return j;
}

void retryPolicyToEnvoy(const RetryPolicy& p, envoy_route::RetryPolicy& out, Struct& sluice) {
  std::string on;
  for (const auto& n : retryOnNames(p.retry_on)) on += (on.empty() ? "" : ",") + n;
  out.set_retry_on(on);
  out.mutable_num_retries()->set_value(p.num_retries);
  if (p.per_try_timeout.count() > 0) toProto(p.per_try_timeout, *out.mutable_per_try_timeout());
  toProto(p.base_interval, *out.mutable_retry_back_off()->mutable_base_interval());
  toProto(p.max_interval, *out.mutable_retry_back_off()->mutable_max_interval());
  for (uint32_t c : p.retriable_status_codes) out.add_retriable_status_codes(c);
  for (const auto& h : p.retriable_headers) headerMatcherToEnvoy(h, *out.add_retriable_headers());
  if (json x = retryExtras(p); !x.empty()) (*sluice.mutable_fields())["retry_policy"] = toStructValue(x);
}

void matchToEnvoy(const RouteMatch& m, envoy_route::RouteMatch& out, Struct& sluice) {
  switch (m.path_kind) {
    case RouteMatch::PathKind::Prefix: out.set_prefix(m.path); break;
    case RouteMatch::PathKind::Exact: out.set_path(m.path); break;
    case RouteMatch::PathKind::Regex: out.mutable_safe_regex()->set_regex(m.path); break;
  }
  out.mutable_case_sensitive()->set_value(m.case_sensitive);
  // Envoy and gRPC match methods as the :method pseudo-header.
  if (m.methods.size() == 1) {
    auto* h = out.add_headers();
    h->set_name(":method");
    h->mutable_string_match()->set_exact(m.methods[0]);
  } else if (m.methods.size() > 1) {
    std::string re;
    for (const auto& x : m.methods) re += (re.empty() ? "" : "|") + x;
    auto* h = out.add_headers();
    h->set_name(":method");
    h->mutable_string_match()->mutable_safe_regex()->set_regex(re);
    json list = m.methods;
    (*sluice.mutable_fields())["methods"] = toStructValue(list);
  }
  for (const auto& h : m.headers) headerMatcherToEnvoy(h, *out.add_headers());
  for (const auto& q : m.query_parameters) queryMatcherToEnvoy(q, *out.add_query_parameters());
}

// The hash policy a route goes out with: its own, else its cluster's.
void routeHashToEnvoy(const RouteAction& a, envoy_route::RouteAction& out, Struct& sluice,
                      const ClusterHashPolicies& clusters) {
  if (!a.hash_policy.empty()) {
    hashPolicyToEnvoy(a.hash_policy, *out.mutable_hash_policy());
    return;
  }
  if (!clusters) return;
  const std::vector<HashPolicyConfig>* derived = clusters(a.cluster);
  for (const auto& w : a.weighted_clusters) {
    if (derived != nullptr && !derived->empty()) break;
    derived = clusters(w.name);
  }
  if (derived == nullptr || derived->empty()) return;
  hashPolicyToEnvoy(*derived, *out.mutable_hash_policy());
  (*sluice.mutable_fields())["hash_policy_from_cluster"].set_bool_value(true);
}

void actionToEnvoy(const RouteAction& a, envoy_route::RouteAction& out, Struct& sluice,
                   const ClusterHashPolicies& clusters) {
  if (!a.weighted_clusters.empty()) {
    uint32_t total = 0;
    for (const auto& w : a.weighted_clusters) {
      auto* c = out.mutable_weighted_clusters()->add_clusters();
      c->set_name(w.name);
      c->mutable_weight()->set_value(w.weight);
      total += w.weight;
    }
    // Deprecated, and Envoy sums the weights itself; but gRPC C++ up to 1.5x
    // still checks the sum against it, taking 100 when it is unset, and
    // refuses the whole route table otherwise.
    out.mutable_weighted_clusters()->mutable_total_weight()->set_value(total);
  } else {
    out.set_cluster(a.cluster);
  }
  if (a.prefix_rewrite) out.set_prefix_rewrite(*a.prefix_rewrite);
  if (a.host_rewrite) out.set_host_rewrite_literal(*a.host_rewrite);
  toProto(a.timeout, *out.mutable_timeout());
  toProto(a.max_grpc_timeout, *out.mutable_max_stream_duration()->mutable_grpc_timeout_header_max());
  if (a.high_priority) out.set_priority(envoy::config::core::v3::HIGH);
  if (a.retry_policy) retryPolicyToEnvoy(*a.retry_policy, *out.mutable_retry_policy(), sluice);
  routeHashToEnvoy(a, out, sluice, clusters);
}

void redirectToEnvoy(const RedirectAction& a, envoy_route::RedirectAction& out) {
  if (a.scheme_redirect) out.set_scheme_redirect(*a.scheme_redirect);
  if (a.host_redirect) out.set_host_redirect(*a.host_redirect);
  if (a.path_redirect) out.set_path_redirect(*a.path_redirect);
  if (a.prefix_rewrite) out.set_prefix_rewrite(*a.prefix_rewrite);
  out.set_strip_query(a.strip_query);
  switch (a.response_code) {
    case 302: out.set_response_code(envoy_route::RedirectAction::FOUND); break;
    case 303: out.set_response_code(envoy_route::RedirectAction::SEE_OTHER); break;
    case 307: out.set_response_code(envoy_route::RedirectAction::TEMPORARY_REDIRECT); break;
    case 308: out.set_response_code(envoy_route::RedirectAction::PERMANENT_REDIRECT); break;
    default: out.set_response_code(envoy_route::RedirectAction::MOVED_PERMANENTLY); break;
  }
}

void routeToEnvoy(const Route& r, envoy_route::Route& out, const ClusterHashPolicies& clusters) {
  Struct& sluice = sluiceMetadata(*out.mutable_metadata());
  out.set_name(r.name);
  matchToEnvoy(r.match, *out.mutable_match(), sluice);
  if (r.route) {
    actionToEnvoy(*r.route, *out.mutable_route(), sluice, clusters);
  } else if (r.redirect) {
    redirectToEnvoy(*r.redirect, *out.mutable_redirect());
  } else if (r.direct_response) {
    auto* d = out.mutable_direct_response();
    d->set_status(r.direct_response->status);
    if (!r.direct_response->body.empty()) d->mutable_body()->set_inline_string(r.direct_response->body);
    if (r.direct_response->content_type != DirectResponseAction{}.content_type)
      (*sluice.mutable_fields())["direct_response"] =
          toStructValue(json{{"content_type", r.direct_response->content_type}});
  }
  headerMutationToEnvoy(r.headers, out);
  perFilterConfigsToEnvoy(r.per_filter_config, *out.mutable_typed_per_filter_config(), sluice);
  if (sluice.fields().empty()) out.clear_metadata();
}

void virtualHostToEnvoy(const VirtualHost& vh, envoy_route::VirtualHost& out, const ClusterHashPolicies& clusters) {
  Struct& sluice = sluiceMetadata(*out.mutable_metadata());
  out.set_name(vh.name);
  for (const auto& d : vh.domains) {
    out.add_domains(d);
    if (d.find('*') == std::string::npos) out.add_domains(d + ":*");
  }
  for (const auto& r : vh.routes) routeToEnvoy(r, *out.add_routes(), clusters);
  headerMutationToEnvoy(vh.headers, out);
  perFilterConfigsToEnvoy(vh.per_filter_config, *out.mutable_typed_per_filter_config(), sluice);
  if (vh.retry_policy) retryPolicyToEnvoy(*vh.retry_policy, *out.mutable_retry_policy(), sluice);
  if (sluice.fields().empty()) out.clear_metadata();
}

// ---- in ----

FieldError headerMutationFromEnvoy(const auto& owner, std::string_view path, HeaderMutation& m) {
  if (auto e = headersToAddFromEnvoy(owner.request_headers_to_add(), fieldPath(path, "request_headers_to_add"),
                                     m.request_headers_to_add);
      !e.empty())
    return e;
  if (auto e = headersToAddFromEnvoy(owner.response_headers_to_add(), fieldPath(path, "response_headers_to_add"),
                                     m.response_headers_to_add);
      !e.empty())
    return e;
  m.request_headers_to_remove.assign(owner.request_headers_to_remove().begin(),
                                     owner.request_headers_to_remove().end());
  m.response_headers_to_remove.assign(owner.response_headers_to_remove().begin(),
                                      owner.response_headers_to_remove().end());
  return {};
}

const google::protobuf::Value* field(const Struct* s, const char* name) {
  if (s == nullptr) return nullptr;
  const auto it = s->fields().find(name);
  return it == s->fields().end() ? nullptr : &it->second;
}

FieldError durationFrom(const google::protobuf::Duration& d, std::string_view path, Duration& out) {
  if (!fromProto(d, out)) return {std::string(path), "invalid duration"};
  return {};
}

FieldError retryPolicyFromEnvoy(const envoy_route::RetryPolicy& in, std::string_view path, const Struct* sluice,
                                RetryPolicy& p) {
  if (auto e = unsupportedField(in, path,
                                {"retry_on", "num_retries", "per_try_timeout", "retriable_status_codes",
                                 "retry_back_off", "retriable_headers"});
      !e.empty())
    return e;
  std::string_view all = in.retry_on();
  if (all.empty()) return {fieldPath(path, "retry_on"), "required"};
  while (!all.empty()) {
    const size_t comma = all.find(',');
    std::string_view name = all.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const uint32_t flag = retryOnFlag(name);
    if (flag == 0) return {fieldPath(path, "retry_on"), "'" + std::string(name) + "' is not supported by Sluice"};
    p.retry_on |= flag;
    all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
  }
  if (in.has_num_retries()) {
    if (in.num_retries().value() > 10) return {fieldPath(path, "num_retries"), "must be at most 10"};
    p.num_retries = in.num_retries().value();
  }
  if (in.has_per_try_timeout())
    if (auto e = durationFrom(in.per_try_timeout(), fieldPath(path, "per_try_timeout"), p.per_try_timeout); !e.empty())
      return e;
  if (in.has_retry_back_off()) {
    const auto& b = in.retry_back_off();
    const std::string bp = fieldPath(path, "retry_back_off");
    if (auto e = durationFrom(b.base_interval(), fieldPath(bp, "base_interval"), p.base_interval); !e.empty())
      return e;
    if (p.base_interval.count() <= 0) return {fieldPath(bp, "base_interval"), "must be at least 1ms"};
    p.max_interval = p.base_interval * 10;
    if (b.has_max_interval())
      if (auto e = durationFrom(b.max_interval(), fieldPath(bp, "max_interval"), p.max_interval); !e.empty())
        return e;
    if (p.max_interval < p.base_interval) return {fieldPath(bp, "max_interval"), "must not be below base_interval"};
  }
  for (int i = 0; i < in.retriable_status_codes_size(); ++i) {
    const uint32_t c = in.retriable_status_codes(i);
    if (c < 100 || c > 599) return {indexPath(fieldPath(path, "retriable_status_codes"), i), "not an HTTP status"};
    p.retriable_status_codes.push_back(c);
  }
  for (int i = 0; i < in.retriable_headers_size(); ++i) {
    HeaderMatcher h;
    if (auto e = headerMatcherFromEnvoy(in.retriable_headers(i), indexPath(fieldPath(path, "retriable_headers"), i), h);
        !e.empty())
      return e;
    p.retriable_headers.push_back(std::move(h));
  }
  if (const auto* x = field(sluice, "retry_policy"); x != nullptr && x->has_struct_value()) {
    const Struct& s = x->struct_value();
    // The metadata is the route's (or virtual host's), not the action's.
    std::string owner(path.substr(0, path.rfind(".retry_policy")));
    if (owner.size() >= 6 && owner.compare(owner.size() - 6, 6, ".route") == 0) owner.resize(owner.size() - 6);
    if (auto e = StructFields(&s, fieldPath(owner, "metadata.io.sluice.retry_policy"))
                     .onlyKeys({"max_request_body_bytes", "retry_non_idempotent"});
        !e.empty())
      return e;
    if (const auto* v = field(&s, "max_request_body_bytes")) {
      const double d = v->number_value();
      if (!(d >= 0 && d <= UINT32_MAX) || d != static_cast<double>(static_cast<uint64_t>(d)))
        return {fieldPath(owner, "metadata.io.sluice.retry_policy.max_request_body_bytes"),
                "must be a whole number 0..4294967295"};
      p.max_request_body_bytes = static_cast<uint32_t>(d);
    }
    if (const auto* v = field(&s, "retry_non_idempotent")) p.retry_non_idempotent = v->bool_value();
  }
  return {};
}

FieldError matchFromEnvoy(const envoy_route::RouteMatch& in, std::string_view path, const Struct* sluice,
                          RouteMatch& m) {
  if (auto e = unsupportedField(in, path,
                                {"prefix", "path", "safe_regex", "case_sensitive", "headers", "query_parameters"});
      !e.empty())
    return e;
  switch (in.path_specifier_case()) {
    case envoy_route::RouteMatch::kPrefix:
      m.path_kind = RouteMatch::PathKind::Prefix;
      m.path = in.prefix();
      // Envoy's empty prefix matches everything, as "/" does in Sluice.
      if (m.path.empty()) m.path = "/";
      break;
    case envoy_route::RouteMatch::kPath:
      m.path_kind = RouteMatch::PathKind::Exact;
      m.path = in.path();
      break;
    case envoy_route::RouteMatch::kSafeRegex:
      m.path_kind = RouteMatch::PathKind::Regex;
      m.path = in.safe_regex().regex();
      break;
    default:
      return {std::string(path), "needs prefix, path or safe_regex"};
  }
  if (m.path_kind != RouteMatch::PathKind::Regex && (m.path.empty() || m.path.front() != '/'))
    return {std::string(path), "the path must start with '/'"};
  if (in.has_case_sensitive()) m.case_sensitive = in.case_sensitive().value();
  const auto* methods = field(sluice, "methods");
  for (int i = 0; i < in.headers_size(); ++i) {
    const auto& h = in.headers(i);
    if (h.name() == ":method" && !h.invert_match()) {
      // Ours: one exact method, or the alternation written with the methods.
      if (h.has_string_match() && h.string_match().has_exact() && !h.string_match().ignore_case()) {
        m.methods.push_back(h.string_match().exact());
        continue;
      }
      if (h.header_match_specifier_case() == envoy_route::HeaderMatcher::kExactMatch) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // older servers still send exact_match
        m.methods.push_back(h.exact_match());
#pragma GCC diagnostic pop
        continue;
      }
      if (methods != nullptr && methods->has_list_value() && h.has_string_match() &&
          h.string_match().has_safe_regex()) {
        for (const auto& v : methods->list_value().values()) m.methods.push_back(v.string_value());
        methods = nullptr;
        continue;
      }
    }
    HeaderMatcher hm;
    if (auto e = headerMatcherFromEnvoy(h, indexPath(fieldPath(path, "headers"), i), hm); !e.empty()) return e;
    m.headers.push_back(std::move(hm));
  }
  for (int i = 0; i < in.query_parameters_size(); ++i) {
    QueryParameterMatcher q;
    if (auto e = queryMatcherFromEnvoy(in.query_parameters(i), indexPath(fieldPath(path, "query_parameters"), i), q);
        !e.empty())
      return e;
    m.query_parameters.push_back(std::move(q));
  }
  return {};
}

FieldError actionFromEnvoy(const envoy_route::RouteAction& in, std::string_view path, const Struct* sluice,
                           const RouteMatch& m, RouteAction& a) {
  if (auto e = unsupportedField(in, path,
                                {"cluster", "weighted_clusters", "prefix_rewrite", "host_rewrite_literal", "timeout",
                                 "retry_policy", "priority", "max_grpc_timeout", "max_stream_duration",
                                 "hash_policy"});
      !e.empty())
    return e;
  switch (in.cluster_specifier_case()) {
    case envoy_route::RouteAction::kCluster:
      if (in.cluster().empty()) return {fieldPath(path, "cluster"), "must not be empty"};
      a.cluster = in.cluster();
      break;
    case envoy_route::RouteAction::kWeightedClusters: {
      const auto& wc = in.weighted_clusters();
      const std::string wp = fieldPath(path, "weighted_clusters");
      if (auto e = unsupportedField(wc, wp, {"clusters", "total_weight"}); !e.empty()) return e;
      if (wc.clusters_size() == 0) return {fieldPath(wp, "clusters"), "needs at least one cluster"};
      uint64_t total = 0;
      for (int i = 0; i < wc.clusters_size(); ++i) {
        const auto& c = wc.clusters(i);
        const std::string cp = indexPath(fieldPath(wp, "clusters"), i);
        if (auto e = unsupportedField(c, cp, {"name", "weight"}); !e.empty()) return e;
        if (c.name().empty()) return {fieldPath(cp, "name"), "required"};
        a.weighted_clusters.push_back(WeightedCluster{c.name(), c.weight().value(), {}});
        total += c.weight().value();
      }
      if (total == 0 || total > UINT32_MAX)
        return {fieldPath(wp, "clusters"), "the total weight must be 1.." + std::to_string(UINT32_MAX)};
      break;
    }
    default:
      return {std::string(path), "needs cluster or weighted_clusters"};
  }
  if (!in.prefix_rewrite().empty()) {
    if (m.path_kind != RouteMatch::PathKind::Prefix)
      return {fieldPath(path, "prefix_rewrite"), "requires a prefix match"};
    a.prefix_rewrite = in.prefix_rewrite();
  }
  if (!in.host_rewrite_literal().empty()) a.host_rewrite = in.host_rewrite_literal();
  if (in.has_timeout())
    if (auto e = durationFrom(in.timeout(), fieldPath(path, "timeout"), a.timeout); !e.empty()) return e;
  if (in.has_max_stream_duration()) {
    const auto& msd = in.max_stream_duration();
    const std::string mp = fieldPath(path, "max_stream_duration");
    if (auto e = unsupportedField(msd, mp, {"grpc_timeout_header_max"}); !e.empty()) return e;
    if (auto e = durationFrom(msd.grpc_timeout_header_max(), fieldPath(mp, "grpc_timeout_header_max"),
                              a.max_grpc_timeout);
        !e.empty())
      return e;
  } else {
    // Deprecated for max_stream_duration.grpc_timeout_header_max, still sent by older servers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (in.has_max_grpc_timeout())
      if (auto e = durationFrom(in.max_grpc_timeout(), fieldPath(path, "max_grpc_timeout"), a.max_grpc_timeout);
          !e.empty())
        return e;
#pragma GCC diagnostic pop
  }
  a.high_priority = in.priority() == envoy::config::core::v3::HIGH;
  if (in.has_retry_policy()) {
    RetryPolicy p;
    if (auto e = retryPolicyFromEnvoy(in.retry_policy(), fieldPath(path, "retry_policy"), sluice, p); !e.empty())
      return e;
    a.retry_policy = std::move(p);
  }
  const auto* derived = field(sluice, "hash_policy_from_cluster");
  if (derived == nullptr || !derived->bool_value())
    if (auto e = hashPolicyFromEnvoy(in.hash_policy(), fieldPath(path, "hash_policy"), a.hash_policy); !e.empty())
      return e;
  return {};
}

FieldError redirectFromEnvoy(const envoy_route::RedirectAction& in, std::string_view path, const RouteMatch& m,
                             RedirectAction& a) {
  if (auto e = unsupportedField(in, path,
                                {"https_redirect", "scheme_redirect", "host_redirect", "path_redirect",
                                 "prefix_rewrite", "response_code", "strip_query"});
      !e.empty())
    return e;
  if (in.https_redirect()) a.scheme_redirect = "https";
  if (!in.scheme_redirect().empty()) {
    if (in.scheme_redirect() != "http" && in.scheme_redirect() != "https")
      return {fieldPath(path, "scheme_redirect"), "must be http or https"};
    a.scheme_redirect = in.scheme_redirect();
  }
  if (!in.host_redirect().empty()) a.host_redirect = in.host_redirect();
  if (in.path_rewrite_specifier_case() == envoy_route::RedirectAction::kPathRedirect) {
    if (in.path_redirect().empty() || in.path_redirect().front() != '/')
      return {fieldPath(path, "path_redirect"), "must start with '/'"};
    a.path_redirect = in.path_redirect();
  }
  if (in.path_rewrite_specifier_case() == envoy_route::RedirectAction::kPrefixRewrite) {
    if (m.path_kind != RouteMatch::PathKind::Prefix)
      return {fieldPath(path, "prefix_rewrite"), "requires a prefix match"};
    a.prefix_rewrite = in.prefix_rewrite();
  }
  a.strip_query = in.strip_query();
  switch (in.response_code()) {
    case envoy_route::RedirectAction::FOUND: a.response_code = 302; break;
    case envoy_route::RedirectAction::SEE_OTHER: a.response_code = 303; break;
    case envoy_route::RedirectAction::TEMPORARY_REDIRECT: a.response_code = 307; break;
    case envoy_route::RedirectAction::PERMANENT_REDIRECT: a.response_code = 308; break;
    default: a.response_code = 301; break;
  }
  if (!a.scheme_redirect && !a.host_redirect && !a.path_redirect && !a.prefix_rewrite && !a.strip_query)
    return {std::string(path), "redirects to the same URL (the client would loop)"};
  return {};
}

FieldError routeFromEnvoy(const envoy_route::Route& in, std::string_view path, const std::string& vhost,
                          size_t index, Route& r) {
  if (auto e = unsupportedField(in, path,
                                {"name", "match", "route", "redirect", "direct_response", "metadata", "decorator",
                                 "typed_per_filter_config", "request_headers_to_add", "request_headers_to_remove",
                                 "response_headers_to_add", "response_headers_to_remove", "stat_prefix"});
      !e.empty())
    return e;
  const Struct* sluice = findSluiceMetadata(in.metadata());
  if (auto e = StructFields(sluice, fieldPath(path, "metadata.io.sluice"))
                   .onlyKeys({"methods", "direct_response", "retry_policy", "per_filter_config",
                              "hash_policy_from_cluster"});
      !e.empty())
    return e;
  r.name = in.name().empty() ? vhost + "/" + std::to_string(index) : in.name();
  if (!in.has_match()) return {fieldPath(path, "match"), "required"};
  if (auto e = matchFromEnvoy(in.match(), fieldPath(path, "match"), sluice, r.match); !e.empty()) return e;
  switch (in.action_case()) {
    case envoy_route::Route::kRoute: {
      RouteAction a;
      if (auto e = actionFromEnvoy(in.route(), fieldPath(path, "route"), sluice, r.match, a); !e.empty()) return e;
      r.route = std::move(a);
      break;
    }
    case envoy_route::Route::kRedirect: {
      RedirectAction a;
      if (auto e = redirectFromEnvoy(in.redirect(), fieldPath(path, "redirect"), r.match, a); !e.empty()) return e;
      r.redirect = std::move(a);
      break;
    }
    case envoy_route::Route::kDirectResponse: {
      const auto& d = in.direct_response();
      const std::string dp = fieldPath(path, "direct_response");
      if (d.status() < 100 || d.status() > 599) return {fieldPath(dp, "status"), "must be 100..599"};
      DirectResponseAction a;
      a.status = static_cast<int>(d.status());
      if (d.has_body()) {
        if (!d.body().has_inline_string() && !d.body().has_inline_bytes())
          return {fieldPath(dp, "body"), "only inline_string and inline_bytes are supported by Sluice"};
        a.body = d.body().has_inline_string() ? d.body().inline_string() : d.body().inline_bytes();
      }
      if (const auto* x = field(sluice, "direct_response"); x != nullptr && x->has_struct_value())
        if (const auto* ct = field(&x->struct_value(), "content_type")) a.content_type = ct->string_value();
      r.direct_response = std::move(a);
      break;
    }
    default:
      return {std::string(path), "needs route, redirect or direct_response (others are not supported by Sluice)"};
  }
  if (auto e = headerMutationFromEnvoy(in, path, r.headers); !e.empty()) return e;
  const auto* pf = field(sluice, "per_filter_config");
  return perFilterConfigsFromEnvoy(in.typed_per_filter_config(), pf && pf->has_struct_value() ? &pf->struct_value()
                                                                                               : nullptr,
                                   path, r.per_filter_config);
}

// A domain "host:port" is the portless one's when that is listed too
// (Sluice matches hosts without ports); alone, it could never match.
FieldError domainsFromEnvoy(const envoy_route::VirtualHost& in, std::string_view path, VirtualHost& vh) {
  if (in.domains_size() == 0) return {fieldPath(path, "domains"), "needs at least one domain"};
  for (int i = 0; i < in.domains_size(); ++i) {
    const std::string& d = in.domains(i);
    const size_t host_end = !d.empty() && d.front() == '[' ? d.find(']') : 0;
    const size_t colon = host_end == std::string::npos ? std::string::npos : d.find(':', host_end);
    if (colon != std::string::npos) {
      const std::string host = d.substr(0, colon);
      const bool listed = std::find(in.domains().begin(), in.domains().end(), host) != in.domains().end();
      if (listed || host == "*") continue;
      return {indexPath(fieldPath(path, "domains"), i),
              "'" + d + "': Sluice matches domains without the port; list '" + host + "'"};
    }
    // As the YAML reader: such a domain could never match a request.
    const std::string dp = indexPath(fieldPath(path, "domains"), i);
    const size_t star = d.find('*');
    if (d.empty()) return {dp, "must not be empty"};
    if (d != "*" && star != std::string::npos &&
        ((star != 0 && star != d.size() - 1) || d.find('*', star + 1) != std::string::npos))
      return {dp, "'" + d + "': '*' may only start (\"*.example.com\") or end (\"api.*\") a domain"};
    if (d.size() > 1 && d.back() == '.') return {dp, "'" + d + "': Sluice matches domains without the trailing dot"};
    vh.domains.push_back(d);
  }
  return {};
}

FieldError virtualHostFromEnvoy(const envoy_route::VirtualHost& in, std::string_view path, VirtualHost& vh) {
  if (auto e = unsupportedField(in, path,
                                {"name", "domains", "routes", "request_headers_to_add", "request_headers_to_remove",
                                 "response_headers_to_add", "response_headers_to_remove", "typed_per_filter_config",
                                 "retry_policy", "metadata"});
      !e.empty())
    return e;
  if (in.name().empty()) return {fieldPath(path, "name"), "required"};
  vh.name = in.name();
  const Struct* sluice = findSluiceMetadata(in.metadata());
  if (auto e = StructFields(sluice, fieldPath(path, "metadata.io.sluice")).onlyKeys({"retry_policy", "per_filter_config"});
      !e.empty())
    return e;
  if (auto e = domainsFromEnvoy(in, path, vh); !e.empty()) return e;
  for (int i = 0; i < in.routes_size(); ++i) {
    Route r;
    if (auto e = routeFromEnvoy(in.routes(i), indexPath(fieldPath(path, "routes"), i), vh.name, i, r); !e.empty())
      return e;
    vh.routes.push_back(std::move(r));
  }
  if (auto e = headerMutationFromEnvoy(in, path, vh.headers); !e.empty()) return e;
  if (in.has_retry_policy()) {
    RetryPolicy p;
    if (auto e = retryPolicyFromEnvoy(in.retry_policy(), fieldPath(path, "retry_policy"), sluice, p); !e.empty())
      return e;
    vh.retry_policy = std::move(p);
  }
  const auto* pf = field(sluice, "per_filter_config");
  return perFilterConfigsFromEnvoy(in.typed_per_filter_config(), pf && pf->has_struct_value() ? &pf->struct_value()
                                                                                               : nullptr,
                                   path, vh.per_filter_config);
}

}  // namespace

void routeConfigToEnvoy(const RouteConfigEntry& rc, envoy_route::RouteConfiguration& out,
                        const ClusterHashPolicies& clusters) {
  out.set_name(rc.name);
  // Sluice matches hosts without their port; this makes Envoy do the same.
  out.set_ignore_port_in_host_matching(true);
  for (const auto& vh : rc.spec->virtual_hosts) virtualHostToEnvoy(vh, *out.add_virtual_hosts(), clusters);
  headerMutationToEnvoy(rc.spec->headers, out);
}

FieldError routeConfigFromEnvoy(const envoy_route::RouteConfiguration& in, RouteConfigEntry& out) {
  if (auto e = unsupportedField(in, "",
                                {"name", "virtual_hosts", "request_headers_to_add", "request_headers_to_remove",
                                 "response_headers_to_add", "response_headers_to_remove", "validate_clusters",
                                 "ignore_port_in_host_matching", "metadata"});
      !e.empty())
    return e;
  if (in.name().empty()) return {"name", "required"};
  auto rc = std::make_shared<RouteConfig>();
  out.name = in.name();
  out.path = "RouteConfiguration '" + in.name() + "'";
  if (in.virtual_hosts_size() == 0) return {"virtual_hosts", "needs at least one virtual host"};
  std::vector<std::string> names;
  std::vector<std::string> domains;
  for (int i = 0; i < in.virtual_hosts_size(); ++i) {
    VirtualHost vh;
    const std::string path = indexPath("virtual_hosts", i);
    if (auto e = virtualHostFromEnvoy(in.virtual_hosts(i), path, vh); !e.empty()) return e;
    if (std::find(names.begin(), names.end(), vh.name) != names.end())
      return {fieldPath(path, "name"), "duplicate virtual host name '" + vh.name + "'"};
    names.push_back(vh.name);
    for (const auto& d : vh.domains) {
      std::string key = d;
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
      if (std::find(domains.begin(), domains.end(), key) != domains.end())
        return {fieldPath(path, "domains"), "domain '" + d + "' is in more than one virtual host"};
      domains.push_back(std::move(key));
    }
    rc->virtual_hosts.push_back(std::move(vh));
  }
  if (auto e = headerMutationFromEnvoy(in, "", rc->headers); !e.empty()) return e;
  out.spec = std::move(rc);
  return {};
}

}  // namespace sluice::xds
