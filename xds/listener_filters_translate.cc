#include "xds/listener_filters_translate.h"

#include <yaml-cpp/yaml.h>

#include "config/yaml_reader.h"
#include "envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "filters/network/authz/config.h"
#include "filters/network/http/config.h"
#include "filters/network/local_ratelimit/config.h"
#include "filters/network/tcp_proxy/config.h"
#include "xds/http_connection_translate.h"
#include "xds/http_rbac_translate.h"
#include "xds/sluice_metadata.h"
#include "xds/unsupported_fields.h"

namespace sluice::xds {
namespace {

using google::protobuf::Any;
using google::protobuf::Struct;
using nlohmann::json;
namespace tcp_v3 = envoy::extensions::filters::network::tcp_proxy::v3;
namespace nrbac_v3 = envoy::extensions::filters::network::rbac::v3;
namespace nlrl_v3 = envoy::extensions::filters::network::local_ratelimit::v3;

constexpr std::string_view kHcmType = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr std::string_view kTcpProxyType = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr std::string_view kRbacType = "envoy.extensions.filters.network.rbac.v3.RBAC";
constexpr std::string_view kLocalLimitType = "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit";

std::string_view typeName(const Any& a) {
  const auto slash = a.type_url().rfind('/');
  return slash == std::string::npos ? std::string_view(a.type_url()) : std::string_view(a.type_url()).substr(slash + 1);
}

std::string ms(config::Duration d) { return std::to_string(d.count()) + "ms"; }

// Our schema's JSON, read by the filter's own reader (its ranges and rules hold).
FieldError readSpec(const config::NetworkFilterReader& reader, const json& j, std::string_view path,
                    std::shared_ptr<const config::FilterSpec>& out) {
  config::ParseContext ctx("xds");
  YAML::Node node;
  try {
    node = YAML::Load(j.dump());
  } catch (const std::exception& e) {  // YAML's, or JSON's on bytes that are not UTF-8
    return {std::string(path), std::string("unreadable: ") + e.what()};
  }
  config::MapReader r(ctx, node, "");
  out = reader.read(r);
  if (!ctx.ok()) {
    const auto& e = ctx.errors().front();
    return {std::string(path), e.path.empty() ? e.message : e.path + ": " + e.message};
  }
  if (!out) return {std::string(path), "unusable"};
  return {};
}

const google::protobuf::Value* field(const Struct* s, const std::string& name) {
  if (s == nullptr) return nullptr;
  const auto it = s->fields().find(name);
  return it == s->fields().end() ? nullptr : &it->second;
}

}  // namespace

void networkFilterToEnvoy(const config::NetworkFilterEntry& f, const std::string& stat_prefix,
                          envoy_listener::Filter& out, Struct& chain_sluice) {
  bool whole = true;
  if (f.name == "http") {
    out.set_name("envoy.filters.network.http_connection_manager");
    envoy_hcm::HttpConnectionManager m;
    httpConnectionToEnvoy(static_cast<const filters::http_cm::Spec&>(*f.spec), stat_prefix, m, chain_sluice);
    out.mutable_typed_config()->PackFrom(m);
  } else if (f.name == "tcp_proxy") {
    const auto& s = static_cast<const filters::tcp_proxy::Spec&>(*f.spec);
    out.set_name("envoy.filters.network.tcp_proxy");
    tcp_v3::TcpProxy m;
    m.set_stat_prefix(stat_prefix);
    m.set_cluster(s.cluster);
    toProto(s.idle_timeout, *m.mutable_idle_timeout());
    m.mutable_max_connect_attempts()->set_value(s.max_connect_attempts);
    out.mutable_typed_config()->PackFrom(m);
  } else if (f.name == "authz") {
    const auto& s = static_cast<const filters::network_authz::Spec&>(*f.spec);
    out.set_name("envoy.filters.network.rbac");
    nrbac_v3::RBAC m;
    m.set_stat_prefix(s.stat_prefix);
    whole = rbacToEnvoy(s.policy, *m.mutable_rules());
    out.mutable_typed_config()->PackFrom(m);
  } else if (f.name == "local_ratelimit") {
    const auto& s = static_cast<const filters::l4_ratelimit::Spec&>(*f.spec);
    out.set_name("envoy.filters.network.local_ratelimit");
    nlrl_v3::LocalRateLimit m;
    m.set_stat_prefix(s.stat_prefix);
    if (s.limit.token_bucket) {
      m.mutable_token_bucket()->set_max_tokens(s.limit.token_bucket->max_tokens);
      m.mutable_token_bucket()->mutable_tokens_per_fill()->set_value(s.limit.token_bucket->tokens_per_fill);
      toProto(s.limit.token_bucket->fill_interval, *m.mutable_token_bucket()->mutable_fill_interval());
    }
    out.mutable_typed_config()->PackFrom(m);
    whole = !s.shadow && s.limit.key_source == config::LocalLimitSpec::KeySource::None;
  }
  if (!whole) {
    auto& nf = (*chain_sluice.mutable_fields())["network_filters"];
    (*nf.mutable_struct_value()->mutable_fields())[out.name()] = toStructValue(f.spec->toJson());
  }
}

FieldError networkFilterFromEnvoy(const envoy_listener::Filter& in, std::string_view path, const Struct* chain_sluice,
                                  const std::string& scope_name, config::NetworkFilterEntry& out,
                                  std::vector<config::RouteConfigEntry>& inline_routes) {
  if (auto e = unsupportedField(in, path, {"name", "typed_config"}); !e.empty()) return e;
  const std::string tp = fieldPath(path, "typed_config");
  if (!in.has_typed_config()) return {tp, "required"};
  const std::string_view type = typeName(in.typed_config());
  const auto* nf = field(chain_sluice, "network_filters");
  const auto* extras = nf && nf->has_struct_value() ? field(&nf->struct_value(), in.name()) : nullptr;

  if (type == kHcmType) {
    envoy_hcm::HttpConnectionManager m;
    if (!in.typed_config().UnpackTo(&m)) return {tp, "cannot decode HttpConnectionManager"};
    filters::http_cm::Spec spec;
    if (auto e = httpConnectionFromEnvoy(m, tp, chain_sluice, scope_name, spec, inline_routes); !e.empty()) return e;
    // The settings once more through the http filter's own reader, so every
    // check it makes on a file (ranges, header names, log formats) holds
    // here too. Its dump lists filters as {name, config} with the router;
    // the reader takes {name: config} without it.
    json j = spec.toJson();
    json listed = json::array();
    for (const auto& f : j["http_filters"])
      if (f["name"] != "router") listed.push_back({{f["name"].get<std::string>(), f["config"]}});
    j["http_filters"] = std::move(listed);
    const auto* reader = config::findNetworkFilterReader("http");
    out = {"http", reader, nullptr};
    return readSpec(*reader, j, tp, out.spec);
  }

  json j = json::object();
  std::string ours;
  if (type == kTcpProxyType) {
    ours = "tcp_proxy";
    tcp_v3::TcpProxy m;
    if (!in.typed_config().UnpackTo(&m)) return {tp, "cannot decode TcpProxy"};
    if (auto e = unsupportedField(m, tp, {"stat_prefix", "cluster", "idle_timeout", "max_connect_attempts"});
        !e.empty())
      return e;
    if (m.cluster().empty()) return {fieldPath(tp, "cluster"), "required (weighted_clusters is not supported by Sluice)"};
    j["cluster"] = m.cluster();
    if (m.has_idle_timeout()) {
      config::Duration d{0};
      if (!fromProto(m.idle_timeout(), d)) return {fieldPath(tp, "idle_timeout"), "invalid duration"};
      j["idle_timeout"] = ms(d);
    }
    if (m.has_max_connect_attempts()) j["max_connect_attempts"] = m.max_connect_attempts().value();
  } else if (type == kRbacType) {
    ours = "authz";
    nrbac_v3::RBAC m;
    if (!in.typed_config().UnpackTo(&m)) return {tp, "cannot decode RBAC"};
    if (extras == nullptr) {
      if (auto e = unsupportedField(m, tp, {"stat_prefix", "rules"}); !e.empty()) return e;
      j["stat_prefix"] = m.stat_prefix();
      if (auto e = rbacFromEnvoy(m.has_rules() ? &m.rules() : nullptr, fieldPath(tp, "rules"),
                                 config::AuthzLayer::Network, j);
          !e.empty())
        return e;
    }
  } else if (type == kLocalLimitType) {
    ours = "local_ratelimit";
    nlrl_v3::LocalRateLimit m;
    if (!in.typed_config().UnpackTo(&m)) return {tp, "cannot decode LocalRateLimit"};
    if (extras == nullptr) {
      if (auto e = unsupportedField(m, tp, {"stat_prefix", "token_bucket"}); !e.empty()) return e;
      j["stat_prefix"] = m.stat_prefix();
      config::Duration fill{0};
      if (!fromProto(m.token_bucket().fill_interval(), fill))
        return {fieldPath(tp, "token_bucket.fill_interval"), "invalid duration"};
      j["token_bucket"] = {{"max_tokens", m.token_bucket().max_tokens()},
                           {"tokens_per_fill", m.token_bucket().has_tokens_per_fill()
                                                   ? m.token_bucket().tokens_per_fill().value()
                                                   : 1},
                           {"fill_interval", ms(fill)}};
    }
  } else {
    return {tp, "unsupported network filter type " + std::string(type)};
  }
  if (extras != nullptr && extras->has_struct_value()) j = fromStruct(extras->struct_value());
  const auto* reader = config::findNetworkFilterReader(ours);
  out.name = ours;
  out.reader = reader;
  return readSpec(*reader, j, tp, out.spec);
}

}  // namespace sluice::xds
