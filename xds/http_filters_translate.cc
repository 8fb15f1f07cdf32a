#include "xds/http_filters_translate.h"

#include <yaml-cpp/yaml.h>

#include "config/yaml_reader.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/header_mutation/v3/header_mutation.pb.h"
#include "envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.pb.h"
#include "envoy/extensions/filters/http/ratelimit/v3/rate_limit.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "filters/http/authz/config.h"
#include "filters/http/fault/config.h"
#include "filters/http/header_mutation/config.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/ratelimit/config.h"
#include "xds/http_rbac_translate.h"
#include "xds/route_headers_translate.h"
#include "xds/sluice_metadata.h"
#include "xds/unsupported_fields.h"

namespace sluice::xds {
namespace {

using google::protobuf::Any;
using google::protobuf::Struct;
using nlohmann::json;
namespace fault_v3 = envoy::extensions::filters::http::fault::v3;
namespace hm_v3 = envoy::extensions::filters::http::header_mutation::v3;
namespace lrl_v3 = envoy::extensions::filters::http::local_ratelimit::v3;
namespace rl_v3 = envoy::extensions::filters::http::ratelimit::v3;
namespace rbac_v3 = envoy::extensions::filters::http::rbac::v3;
namespace router_v3 = envoy::extensions::filters::http::router::v3;
using envoy::type::v3::FractionalPercent;

// Our filters: their name, the Envoy filter name they are written under, and
// the typed_config types they are read from (listener level, per route).
struct Known {
  std::string_view ours;
  std::string_view envoy_name;
  std::string_view type;
  std::string_view per_route_type;
};
constexpr Known kKnown[] = {
    {"fault", "envoy.filters.http.fault", "envoy.extensions.filters.http.fault.v3.HTTPFault",
     "envoy.extensions.filters.http.fault.v3.HTTPFault"},
    {"local_ratelimit", "envoy.filters.http.local_ratelimit",
     "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
     "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"},
    {"authz", "envoy.filters.http.rbac", "envoy.extensions.filters.http.rbac.v3.RBAC",
     "envoy.extensions.filters.http.rbac.v3.RBACPerRoute"},
    {"header_mutation", "envoy.filters.http.header_mutation",
     "envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
     "envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute"},
    {"ratelimit", "envoy.filters.http.ratelimit", "envoy.extensions.filters.http.ratelimit.v3.RateLimit",
     "envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute"},
};

const Known* knownByOurs(std::string_view ours) {
  for (const auto& k : kKnown)
    if (k.ours == ours) return &k;
  return nullptr;
}

std::string_view typeName(const Any& a) {
  const auto slash = a.type_url().rfind('/');
  return slash == std::string::npos ? std::string_view(a.type_url()) : std::string_view(a.type_url()).substr(slash + 1);
}

// ---- reading a spec through its own reader ----
// What an Envoy message says is put in our schema and read by the filter's
// reader, so every range and rule it checks holds for xDS too.

FieldError readSpec(const config::HttpFilterReader& reader, const json& j, bool per_route, std::string_view path,
                    std::shared_ptr<const config::FilterSpec>& out) {
  config::ParseContext ctx("xds");
  YAML::Node node;
  try {
    node = YAML::Load(j.dump());
  } catch (const std::exception& e) {  // YAML's, or JSON's on bytes that are not UTF-8
    return {std::string(path), std::string("unreadable: ") + e.what()};
  }
  config::MapReader r(ctx, node, "");
  out = per_route ? reader.readPerRoute(r) : reader.read(r);
  if (!ctx.ok()) {
    const auto& e = ctx.errors().front();
    return {std::string(path), e.path.empty() ? e.message : e.path + ": " + e.message};
  }
  if (!out) return {std::string(path), "unusable"};
  return {};
}

std::string ms(config::Duration d) { return std::to_string(d.count()) + "ms"; }

FieldError percentFrom(const FractionalPercent& p, std::string_view path, uint32_t& out) {
  uint64_t n = p.numerator();
  switch (p.denominator()) {
    case FractionalPercent::HUNDRED: break;
    case FractionalPercent::TEN_THOUSAND:
      if (n % 100 != 0) return {std::string(path), "Sluice takes whole percents"};
      n /= 100;
      break;
    case FractionalPercent::MILLION:
      if (n % 10000 != 0) return {std::string(path), "Sluice takes whole percents"};
      n /= 10000;
      break;
    default: return {std::string(path), "unknown denominator"};
  }
  out = static_cast<uint32_t>(std::min<uint64_t>(n, 100));
  return {};
}

void percentTo(uint32_t pct, FractionalPercent& out) {
  out.set_numerator(pct);
  out.set_denominator(FractionalPercent::HUNDRED);
}

// ---- fault ----

void faultToEnvoy(const filters::fault::Spec& s, fault_v3::HTTPFault& out) {
  if (s.delay_percentage > 0 || s.delay.count() > 0) {
    toProto(s.delay, *out.mutable_delay()->mutable_fixed_delay());
    percentTo(s.delay_percentage, *out.mutable_delay()->mutable_percentage());
  }
  if (s.abort_status != 0) {
    out.mutable_abort()->set_http_status(s.abort_status);
    percentTo(s.abort_percentage, *out.mutable_abort()->mutable_percentage());
  }
}

FieldError faultFromEnvoy(const fault_v3::HTTPFault& in, std::string_view path, json& j) {
  if (auto e = unsupportedField(in, path, {"delay", "abort"}); !e.empty()) return e;
  if (in.has_delay()) {
    const std::string p = fieldPath(path, "delay");
    if (auto e = unsupportedField(in.delay(), p, {"fixed_delay", "percentage"}); !e.empty()) return e;
    config::Duration d{0};
    if (!in.delay().has_fixed_delay() || !fromProto(in.delay().fixed_delay(), d))
      return {fieldPath(p, "fixed_delay"), "required (a valid duration)"};
    uint32_t pct = 0;
    if (auto e = percentFrom(in.delay().percentage(), fieldPath(p, "percentage"), pct); !e.empty()) return e;
    j["delay"] = {{"fixed_delay", ms(d)}, {"percentage", pct}};
  }
  if (in.has_abort()) {
    const std::string p = fieldPath(path, "abort");
    if (auto e = unsupportedField(in.abort(), p, {"http_status", "percentage"}); !e.empty()) return e;
    uint32_t pct = 0;
    if (auto e = percentFrom(in.abort().percentage(), fieldPath(p, "percentage"), pct); !e.empty()) return e;
    j["abort"] = {{"http_status", in.abort().http_status()}, {"percentage", pct}};
  }
  return {};
}

// ---- header_mutation ----

void mutationsToEnvoy(const config::HeaderMutation& m, hm_v3::Mutations& out) {
  for (const auto& h : m.request_headers_to_remove) out.add_request_mutations()->set_remove(h);
  for (const auto& h : m.response_headers_to_remove) out.add_response_mutations()->set_remove(h);
  HeaderValueOptions add;
  headersToAddToEnvoy(m.request_headers_to_add, add);
  for (auto& o : add) *out.add_request_mutations()->mutable_append() = o;
  add.Clear();
  headersToAddToEnvoy(m.response_headers_to_add, add);
  for (auto& o : add) *out.add_response_mutations()->mutable_append() = o;
}

FieldError mutationListFrom(const google::protobuf::RepeatedPtrField<
                                envoy::config::common::mutation_rules::v3::HeaderMutation>& list,
                            std::string_view path, json& add, json& remove) {
  for (int i = 0; i < list.size(); ++i) {
    const auto& m = list[i];
    const std::string p = indexPath(path, i);
    if (auto e = unsupportedField(m, p, {"remove", "append"}); !e.empty()) return e;
    if (m.has_append()) {
      HeaderValueOptions one;
      *one.Add() = m.append();
      std::vector<config::HeaderValueOption> v;
      if (auto e = headersToAddFromEnvoy(one, fieldPath(p, "append"), v); !e.empty()) return e;
      add.push_back({{"name", v[0].name}, {"value", v[0].value}, {"append", v[0].append}});
    } else {
      remove.push_back(m.remove());
    }
  }
  return {};
}

FieldError mutationsFromEnvoy(const hm_v3::Mutations& in, std::string_view path, json& j) {
  if (auto e = unsupportedField(in, path, {"request_mutations", "response_mutations"}); !e.empty()) return e;
  json radd = json::array(), rrem = json::array(), sadd = json::array(), srem = json::array();
  if (auto e = mutationListFrom(in.request_mutations(), fieldPath(path, "request_mutations"), radd, rrem); !e.empty())
    return e;
  if (auto e = mutationListFrom(in.response_mutations(), fieldPath(path, "response_mutations"), sadd, srem);
      !e.empty())
    return e;
  if (!radd.empty()) j["request_headers_to_add"] = radd;
  if (!rrem.empty()) j["request_headers_to_remove"] = rrem;
  if (!sadd.empty()) j["response_headers_to_add"] = sadd;
  if (!srem.empty()) j["response_headers_to_remove"] = srem;
  return {};
}

// ---- local_ratelimit ----
// Envoy checks none of the requests unless filter_enabled says so, and
// enforces on none unless filter_enforced does: 100/100 is Sluice's normal
// mode, 100/0 its shadow mode.

void localLimitToEnvoy(const filters::local_ratelimit::Spec& s, lrl_v3::LocalRateLimit& out) {
  out.set_stat_prefix(s.stat_prefix);
  if (s.limit.token_bucket) {
    auto* b = out.mutable_token_bucket();
    b->set_max_tokens(s.limit.token_bucket->max_tokens);
    b->mutable_tokens_per_fill()->set_value(s.limit.token_bucket->tokens_per_fill);
    toProto(s.limit.token_bucket->fill_interval, *b->mutable_fill_interval());
    auto* en = out.mutable_filter_enabled();
    en->set_runtime_key(s.stat_prefix + "_enabled");
    percentTo(100, *en->mutable_default_value());
    auto* enf = out.mutable_filter_enforced();
    enf->set_runtime_key(s.stat_prefix + "_enforced");
    percentTo(s.shadow ? 0 : 100, *enf->mutable_default_value());
  }
  if (s.response_headers)
    out.set_enable_x_ratelimit_headers(envoy::extensions::common::ratelimit::v3::DRAFT_VERSION_03);
}

FieldError runtimePercentFrom(const envoy::config::core::v3::RuntimeFractionalPercent& in, std::string_view path,
                              uint32_t& pct) {
  if (auto e = percentFrom(in.default_value(), fieldPath(path, "default_value"), pct); !e.empty()) return e;
  if (pct != 0 && pct != 100) return {fieldPath(path, "default_value"), "Sluice takes 0% or 100% only"};
  return {};
}

FieldError localLimitFromEnvoy(const lrl_v3::LocalRateLimit& in, std::string_view path, json& j) {
  if (auto e = unsupportedField(in, path,
                                {"stat_prefix", "token_bucket", "filter_enabled", "filter_enforced",
                                 "enable_x_ratelimit_headers"});
      !e.empty())
    return e;
  j["stat_prefix"] = in.stat_prefix();
  uint32_t enabled = 0, enforced = 0;
  if (in.has_filter_enabled())
    if (auto e = runtimePercentFrom(in.filter_enabled(), fieldPath(path, "filter_enabled"), enabled); !e.empty())
      return e;
  if (in.has_filter_enforced())
    if (auto e = runtimePercentFrom(in.filter_enforced(), fieldPath(path, "filter_enforced"), enforced); !e.empty())
      return e;
  // A bucket on requests that are never checked limits nothing.
  if (in.has_token_bucket() && enabled == 100) {
    const auto& b = in.token_bucket();
    config::Duration fill{0};
    if (!fromProto(b.fill_interval(), fill)) return {fieldPath(path, "token_bucket.fill_interval"), "invalid duration"};
    j["token_bucket"] = {{"max_tokens", b.max_tokens()},
                         {"tokens_per_fill", b.has_tokens_per_fill() ? b.tokens_per_fill().value() : 1},
                         {"fill_interval", ms(fill)}};
    j["shadow"] = enforced == 0;
  }
  if (in.enable_x_ratelimit_headers() == envoy::extensions::common::ratelimit::v3::DRAFT_VERSION_03)
    j["response_headers"] = true;
  return {};
}

// ---- ratelimit (Redis) ----

void globalLimitToEnvoy(const filters::global_ratelimit::Spec& s, rl_v3::RateLimit& out) {
  out.set_domain(s.domain);
  out.set_stat_prefix(s.stat_prefix);
  toProto(s.redis_timeout, *out.mutable_timeout());
  out.set_failure_mode_deny(s.failure_mode == filters::global_ratelimit::Spec::FailureMode::Deny);
}

// ---- one filter, either way ----

// Packs the Envoy message for `ours`; true when it holds the whole spec (no
// io.sluice copy needed).
bool specToEnvoy(std::string_view ours, const config::FilterSpec& spec, bool per_route, Any& out) {
  if (ours == "fault") {
    fault_v3::HTTPFault m;
    faultToEnvoy(static_cast<const filters::fault::Spec&>(spec), m);
    out.PackFrom(m);
    return true;
  }
  if (ours == "header_mutation") {
    const auto& s = static_cast<const filters::header_mutation::Spec&>(spec);
    if (per_route) {
      hm_v3::HeaderMutationPerRoute m;
      mutationsToEnvoy(s.mutation, *m.mutable_mutations());
      out.PackFrom(m);
    } else {
      hm_v3::HeaderMutation m;
      mutationsToEnvoy(s.mutation, *m.mutable_mutations());
      out.PackFrom(m);
    }
    return true;
  }
  if (ours == "local_ratelimit") {
    const auto& s = static_cast<const filters::local_ratelimit::Spec&>(spec);
    lrl_v3::LocalRateLimit m;
    localLimitToEnvoy(s, m);
    out.PackFrom(m);
    return s.limit.key_source == config::LocalLimitSpec::KeySource::None;
  }
  if (ours == "authz") {
    const auto& s = static_cast<const filters::authz::Spec&>(spec);
    rbac_v3::RBAC m;
    const bool whole = rbacToEnvoy(s.policy, *m.mutable_rules());
    m.set_rules_stat_prefix(s.stat_prefix);
    if (per_route) {
      rbac_v3::RBACPerRoute pr;
      *pr.mutable_rbac() = m;
      out.PackFrom(pr);
    } else {
      out.PackFrom(m);
    }
    return whole;
  }
  if (ours == "ratelimit") {
    const auto& s = static_cast<const filters::global_ratelimit::Spec&>(spec);
    if (per_route) {
      // Envoy's per-route message describes RLS descriptors: nothing of ours.
      rl_v3::RateLimitPerRoute m;
      out.PackFrom(m);
      return false;
    }
    rl_v3::RateLimit m;
    globalLimitToEnvoy(s, m);
    out.PackFrom(m);
    return false;
  }
  return false;
}

// Our schema's JSON from an Envoy message of a known type.
FieldError specJsonFromEnvoy(const Known& k, const Any& in, bool per_route, std::string_view path, json& j) {
  j = json::object();
  const std::string_view type = typeName(in);
  if (k.ours == "fault") {
    fault_v3::HTTPFault m;
    if (!in.UnpackTo(&m)) return {std::string(path), "cannot decode HTTPFault"};
    return faultFromEnvoy(m, path, j);
  }
  if (k.ours == "header_mutation") {
    if (type == k.per_route_type) {
      hm_v3::HeaderMutationPerRoute m;
      if (!in.UnpackTo(&m)) return {std::string(path), "cannot decode HeaderMutationPerRoute"};
      if (auto e = unsupportedField(m, path, {"mutations"}); !e.empty()) return e;
      return mutationsFromEnvoy(m.mutations(), fieldPath(path, "mutations"), j);
    }
    hm_v3::HeaderMutation m;
    if (!in.UnpackTo(&m)) return {std::string(path), "cannot decode HeaderMutation"};
    if (auto e = unsupportedField(m, path, {"mutations"}); !e.empty()) return e;
    return mutationsFromEnvoy(m.mutations(), fieldPath(path, "mutations"), j);
  }
  if (k.ours == "local_ratelimit") {
    lrl_v3::LocalRateLimit m;
    if (!in.UnpackTo(&m)) return {std::string(path), "cannot decode LocalRateLimit"};
    return localLimitFromEnvoy(m, path, j);
  }
  if (k.ours == "authz") {
    rbac_v3::RBAC m;
    std::string p(path);
    if (type == k.per_route_type) {
      rbac_v3::RBACPerRoute pr;
      if (!in.UnpackTo(&pr)) return {p, "cannot decode RBACPerRoute"};
      if (auto e = unsupportedField(pr, p, {"rbac"}); !e.empty()) return e;
      m = pr.rbac();
      p = fieldPath(p, "rbac");
    } else if (!in.UnpackTo(&m)) {
      return {p, "cannot decode RBAC"};
    }
    if (auto e = unsupportedField(m, p, {"rules", "rules_stat_prefix"}); !e.empty()) return e;
    j["stat_prefix"] = m.rules_stat_prefix().empty() ? "rbac" : m.rules_stat_prefix();
    return rbacFromEnvoy(m.has_rules() ? &m.rules() : nullptr, fieldPath(p, "rules"), config::AuthzLayer::Http, j);
  }
  if (k.ours == "ratelimit") {
    return {std::string(path),
            "Sluice's ratelimit counts in Redis, not in a rate limit service: it needs its io.sluice metadata "
            "(from sluice-control)"};
  }
  return {std::string(path), "unsupported"};
}

const Known* knownByType(std::string_view type, bool per_route) {
  for (const auto& k : kKnown)
    if (k.type == type || (per_route && k.per_route_type == type)) return &k;
  return nullptr;
}

const google::protobuf::Value* structField(const Struct* s, const std::string& name) {
  if (s == nullptr) return nullptr;
  const auto it = s->fields().find(name);
  return it == s->fields().end() ? nullptr : &it->second;
}

}  // namespace

void routerToEnvoy(envoy_hcm::HttpFilter& out) {
  out.set_name(std::string(kRouterFilterName));
  out.mutable_typed_config()->PackFrom(router_v3::Router());
}

void httpFilterToEnvoy(const filters::http_cm::HttpFilterSpec& f, envoy_hcm::HttpFilter& out, Struct& extras,
                       int instance) {
  const Known* k = knownByOurs(f.name);
  out.set_name((k ? std::string(k->envoy_name) : "io.sluice.filters.http." + f.name) +
               (instance > 0 ? "." + std::to_string(instance) : ""));
  if (!specToEnvoy(f.name, *f.spec, /*per_route=*/false, *out.mutable_typed_config()))
    (*extras.mutable_fields())[out.name()] = toStructValue(f.spec->toJson());
}

FieldError httpFilterFromEnvoy(const envoy_hcm::HttpFilter& in, std::string_view path, const Struct* extras,
                               HttpFilterRead& out) {
  if (auto e = unsupportedField(in, path, {"name", "typed_config", "is_optional", "disabled"}); !e.empty()) return e;
  const std::string tp = fieldPath(path, "typed_config");
  if (!in.has_typed_config()) return {tp, "required"};
  const std::string_view type = typeName(in.typed_config());
  if (type == "envoy.extensions.filters.http.router.v3.Router") {
    router_v3::Router r;
    if (!in.typed_config().UnpackTo(&r)) return {tp, "cannot decode Router"};
    if (auto e = unsupportedField(r, tp, {"suppress_envoy_headers"}); !e.empty()) return e;
    out.kind = HttpFilterRead::Kind::Router;
    return {};
  }
  const Known* k = knownByType(type, /*per_route=*/false);
  if (k == nullptr) {
    if (in.is_optional()) {
      out.kind = HttpFilterRead::Kind::Skipped;
      return {};
    }
    return {tp, "unsupported HTTP filter type " + std::string(type)};
  }
  if (in.disabled()) return {fieldPath(path, "disabled"), "not supported by Sluice"};
  const auto* reader = config::findHttpFilterReader(k->ours);
  json j;
  if (const auto* x = structField(extras, in.name()); x != nullptr && x->has_struct_value()) {
    j = fromStruct(x->struct_value());
  } else if (auto e = specJsonFromEnvoy(*k, in.typed_config(), false, tp, j); !e.empty()) {
    return e;
  }
  out.kind = HttpFilterRead::Kind::Filter;
  out.spec.name = std::string(k->ours);
  out.spec.reader = reader;
  return readSpec(*reader, j, /*per_route=*/false, tp, out.spec.spec);
}

void perFilterConfigsToEnvoy(const config::PerFilterConfigs& in, TypedPerFilterConfig& typed, Struct& sluice) {
  for (const auto& pf : in) {
    const Known* k = knownByOurs(pf.name);
    Any msg;
    const bool whole = k != nullptr && specToEnvoy(pf.name, *pf.spec, /*per_route=*/true, msg);
    if (!whole) {
      auto& pfc = (*sluice.mutable_fields())["per_filter_config"];
      (*pfc.mutable_struct_value()->mutable_fields())[pf.name] = toStructValue(pf.spec->toJson());
      // Sluice reads the io.sluice copy; a typed one would only mislead
      // Envoy into a partial policy.
      continue;
    }
    // gRPC's xDS client refuses the whole table over an override it does
    // not know unless it is marked optional; but it hands an override it
    // does know (HTTPFault) to that filter's parser still wrapped, which
    // then fails. So fault goes bare, the others wrapped.
    if (k->ours == "fault") {
      typed[std::string(k->envoy_name)] = msg;
      continue;
    }
    envoy::config::route::v3::FilterConfig wrapper;
    *wrapper.mutable_config() = msg;
    wrapper.set_is_optional(true);
    typed[std::string(k->envoy_name)].PackFrom(wrapper);
  }
}

FieldError perFilterConfigsFromEnvoy(const TypedPerFilterConfig& typed, const Struct* sluice, std::string_view path,
                                     config::PerFilterConfigs& out) {
  const std::string base = fieldPath(path, "typed_per_filter_config");
  // Map order is unspecified: read in name order so errors are stable.
  std::vector<std::string> keys;
  for (const auto& [key, _] : typed) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    const std::string p = base + "[" + key + "]";
    const Any* any = &typed.at(key);
    bool optional = false;
    envoy::config::route::v3::FilterConfig wrapper;
    if (typeName(*any) == "envoy.config.route.v3.FilterConfig") {
      if (!any->UnpackTo(&wrapper)) return {p, "cannot decode FilterConfig"};
      if (wrapper.disabled()) return {fieldPath(p, "disabled"), "not supported by Sluice"};
      optional = wrapper.is_optional();
      any = &wrapper.config();
    }
    const Known* k = knownByType(typeName(*any), /*per_route=*/true);
    if (k == nullptr) {
      if (optional) continue;
      return {p, "unsupported HTTP filter type " + std::string(typeName(*any))};
    }
    json j;
    if (auto e = specJsonFromEnvoy(*k, *any, true, p, j); !e.empty()) return e;
    config::PerFilterConfig pf{std::string(k->ours), nullptr, {}};
    if (auto e = readSpec(*config::findHttpFilterReader(k->ours), j, true, p, pf.spec); !e.empty()) return e;
    out.push_back(std::move(pf));
  }
  if (sluice != nullptr) {
    std::vector<std::string> names;
    for (const auto& [name, _] : sluice->fields()) names.push_back(name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      const std::string p = fieldPath(path, "metadata.io.sluice.per_filter_config." + name);
      const auto* reader = config::findHttpFilterReader(name);
      if (reader == nullptr) return {p, "unknown HTTP filter '" + name + "'"};
      for (const auto& have : out)
        if (have.name == name) return {p, "also given in typed_per_filter_config"};
      config::PerFilterConfig pf{name, nullptr, {}};
      if (auto e = readSpec(*reader, fromStructValue(sluice->fields().at(name)), true, p, pf.spec); !e.empty())
        return e;
      out.push_back(std::move(pf));
    }
  }
  return {};
}

}  // namespace sluice::xds
