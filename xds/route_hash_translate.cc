#include "xds/route_hash_translate.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "xds/unsupported_fields.h"

namespace sluice::xds {

using config::HashPolicyConfig;
using EnvoyHashPolicy = envoy::config::route::v3::RouteAction::HashPolicy;

void hashPolicyToEnvoy(const std::vector<HashPolicyConfig>& in, EnvoyHashPolicies& out) {
  for (const auto& h : in) {
    auto& p = *out.Add();
    p.set_terminal(true);
    switch (h.kind) {
      case HashPolicyConfig::Kind::Header: p.mutable_header()->set_header_name(h.name); break;
      case HashPolicyConfig::Kind::Cookie: p.mutable_cookie()->set_name(h.name); break;
      case HashPolicyConfig::Kind::QueryParameter: p.mutable_query_parameter()->set_name(h.name); break;
      case HashPolicyConfig::Kind::SourceIp: p.mutable_connection_properties()->set_source_ip(true); break;
    }
  }
}

namespace {

FieldError named(const google::protobuf::Message& m, const std::string& name, const std::string& path,
                 std::string_view name_field, HashPolicyConfig::Kind kind, HashPolicyConfig& out) {
  if (auto e = unsupportedField(m, path, {name_field}); !e.empty()) return e;
  if (name.empty()) return {fieldPath(path, name_field), "required"};
  out.kind = kind;
  out.name = name;
  return {};
}

FieldError oneFromEnvoy(const EnvoyHashPolicy& in, const std::string& path, HashPolicyConfig& out) {
  switch (in.policy_specifier_case()) {
    case EnvoyHashPolicy::kHeader: {
      if (auto e = named(in.header(), in.header().header_name(), fieldPath(path, "header"), "header_name",
                         HashPolicyConfig::Kind::Header, out);
          !e.empty())
        return e;
      std::transform(out.name.begin(), out.name.end(), out.name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return {};
    }
    case EnvoyHashPolicy::kCookie:
      // ttl, path, attributes: Envoy would set the cookie when missing; Sluice only reads it.
      return named(in.cookie(), in.cookie().name(), fieldPath(path, "cookie"), "name", HashPolicyConfig::Kind::Cookie,
                   out);
    case EnvoyHashPolicy::kQueryParameter:
      return named(in.query_parameter(), in.query_parameter().name(), fieldPath(path, "query_parameter"), "name",
                   HashPolicyConfig::Kind::QueryParameter, out);
    case EnvoyHashPolicy::kConnectionProperties:
      if (!in.connection_properties().source_ip())
        return {fieldPath(fieldPath(path, "connection_properties"), "source_ip"), "must be true"};
      out.kind = HashPolicyConfig::Kind::SourceIp;
      return {};
    case EnvoyHashPolicy::kFilterState:
      return {fieldPath(path, "filter_state"), "not supported by Sluice"};
    default:
      return {std::string(path), "needs header, cookie, query_parameter or connection_properties"};
  }
}

}  // namespace

FieldError hashPolicyFromEnvoy(const EnvoyHashPolicies& in, std::string_view path,
                               std::vector<HashPolicyConfig>& out) {
  for (int i = 0; i < in.size(); ++i) {
    const std::string p = indexPath(path, static_cast<size_t>(i));
    if (auto e = unsupportedField(in[i], p,
                                  {"header", "cookie", "query_parameter", "connection_properties", "filter_state",
                                   "terminal"});
        !e.empty())
      return e;
    if (!in[i].terminal() && i + 1 < in.size())
      return {fieldPath(p, "terminal"),
              "must be true: Sluice takes the first policy that yields a key and cannot combine them"};
    HashPolicyConfig h;
    if (auto e = oneFromEnvoy(in[i], p, h); !e.empty()) return e;
    out.push_back(std::move(h));
  }
  return {};
}

}  // namespace sluice::xds
