#include "config/authz_policy.h"

namespace sluice::config {
namespace {

nlohmann::json principalJson(const AuthzPrincipal& p) {
  switch (p.kind) {
    case AuthzPrincipal::Kind::SpiffeId:
      return {{"spiffe_id", {{p.spiffe_prefix ? "prefix" : "exact", p.spiffe_value}}}};
    case AuthzPrincipal::Kind::SourceIp: return {{"source_ip", p.source->str()}};
    case AuthzPrincipal::Kind::Authenticated: return {{"authenticated", true}};
  }
  return nullptr;
}

template <class T, class Fn>
nlohmann::json arrayOf(const std::vector<T>& items, Fn&& json) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(json(item));
  return out;
}

}  // namespace

std::string_view authzActionName(AuthzAction a) { return a == AuthzAction::Allow ? "allow" : "deny"; }

std::string_view authzLayerName(AuthzLayer layer) { return layer == AuthzLayer::Network ? "network" : "http"; }

nlohmann::json authzPolicyJson(const AuthzPolicy& policy) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : policy.rules) {
    nlohmann::json j = {{"name", r.name}, {"action", authzActionName(r.action)}};
    // Conditions a rule does not state are left out: absence means "any".
    if (!r.principals.empty()) j["principals"] = arrayOf(r.principals, principalJson);
    if (!r.methods.empty()) j["methods"] = r.methods;
    if (!r.paths.empty()) j["paths"] = arrayOf(r.paths, stringMatcherJson);
    if (!r.headers.empty()) j["headers"] = arrayOf(r.headers, headerMatcherJson);
    rules.push_back(j);
  }
  return {{"default_action", authzActionName(policy.default_action)}, {"rules", rules}};
}

}  // namespace sluice::config
