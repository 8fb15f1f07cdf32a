#include "xds/http_rbac_translate.h"

#include <algorithm>

#include "xds/route_matchers_translate.h"
#include "xds/unsupported_fields.h"

namespace sluice::xds {
namespace {

using config::AuthzAction;
using nlohmann::json;
namespace rbac = envoy::config::rbac::v3;

constexpr std::string_view kFailClosed = "io.sluice.not-representable";

void principalToEnvoy(const config::AuthzPrincipal& p, rbac::Principal& out) {
  switch (p.kind) {
    case config::AuthzPrincipal::Kind::SpiffeId: {
      auto* m = out.mutable_authenticated()->mutable_principal_name();
      if (p.spiffe_prefix) m->set_prefix(p.spiffe_value);
      else m->set_exact(p.spiffe_value);
      break;
    }
    case config::AuthzPrincipal::Kind::SourceIp: {
      const std::string s = p.source->str();
      const auto slash = s.find('/');
      auto* c = out.mutable_direct_remote_ip();
      c->set_address_prefix(s.substr(0, slash));
      c->mutable_prefix_len()->set_value(slash == std::string::npos ? 0 : std::stoul(s.substr(slash + 1)));
      break;
    }
    case config::AuthzPrincipal::Kind::Authenticated:
      out.mutable_authenticated();
      break;
  }
}

void ruleToEnvoy(const config::AuthzRule& r, rbac::Policy& out) {
  if (r.principals.empty()) out.add_principals()->set_any(true);
  for (const auto& p : r.principals) principalToEnvoy(p, *out.add_principals());
  std::vector<rbac::Permission> all;
  if (!r.methods.empty()) {
    rbac::Permission any_method;
    for (const auto& m : r.methods) {
      auto* h = any_method.mutable_or_rules()->add_rules()->mutable_header();
      h->set_name(":method");
      h->mutable_string_match()->set_exact(m);
    }
    all.push_back(std::move(any_method));
  }
  if (!r.paths.empty()) {
    rbac::Permission any_path;
    for (const auto& p : r.paths)
      stringMatcherToEnvoy(p, *any_path.mutable_or_rules()->add_rules()->mutable_url_path()->mutable_path());
    all.push_back(std::move(any_path));
  }
  for (const auto& h : r.headers) {
    rbac::Permission one;
    headerMatcherToEnvoy(h, *one.mutable_header());
    all.push_back(std::move(one));
  }
  if (all.empty()) {
    out.add_permissions()->set_any(true);
  } else {
    auto* and_rules = out.add_permissions()->mutable_and_rules();
    for (auto& p : all) *and_rules->add_rules() = std::move(p);
  }
}

// ---- in ----

FieldError principalFromEnvoy(const rbac::Principal& p, std::string_view path, json& out, bool& any) {
  switch (p.identifier_case()) {
    case rbac::Principal::kAny:
      any = true;
      return {};
    case rbac::Principal::kAuthenticated: {
      if (!p.authenticated().has_principal_name()) {
        out.push_back({{"authenticated", true}});
        return {};
      }
      const auto& m = p.authenticated().principal_name();
      const std::string mp = fieldPath(path, "authenticated.principal_name");
      if (m.ignore_case()) return {fieldPath(mp, "ignore_case"), "not supported by Sluice"};
      if (m.has_exact()) out.push_back({{"spiffe_id", {{"exact", m.exact()}}}});
      else if (m.has_prefix()) out.push_back({{"spiffe_id", {{"prefix", m.prefix()}}}});
      else return {mp, "Sluice matches SPIFFE IDs exactly or by prefix only"};
      return {};
    }
    case rbac::Principal::kDirectRemoteIp:
    case rbac::Principal::kSourceIp: {
      // source_ip is deprecated, but other servers still send it (the same peer address).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      const auto& c = p.has_direct_remote_ip() ? p.direct_remote_ip() : p.source_ip();
#pragma GCC diagnostic pop
      std::string cidr = c.address_prefix();
      if (c.has_prefix_len()) cidr += "/" + std::to_string(c.prefix_len().value());
      out.push_back({{"source_ip", cidr}});
      return {};
    }
    default:
      return {std::string(path), "Sluice takes any, authenticated and direct_remote_ip principals only"};
  }
}

// One permission's conditions into the rule (AND of them).
FieldError permissionFromEnvoy(const rbac::Permission& p, std::string_view path, json& rule, bool top) {
  switch (p.rule_case()) {
    case rbac::Permission::kAny:
      return {};
    case rbac::Permission::kAndRules:
      if (!top) break;
      for (int i = 0; i < p.and_rules().rules_size(); ++i)
        if (auto e = permissionFromEnvoy(p.and_rules().rules(i), indexPath(fieldPath(path, "and_rules.rules"), i),
                                         rule, false);
            !e.empty())
          return e;
      return {};
    case rbac::Permission::kOrRules: {
      // Ours: all :method headers (methods), or all url_path (paths).
      const auto& rules = p.or_rules().rules();
      const std::string rp = fieldPath(path, "or_rules.rules");
      const bool methods = !rules.empty() && std::all_of(rules.begin(), rules.end(), [](const rbac::Permission& x) {
        return x.has_header() && x.header().name() == ":method" && x.header().has_string_match() &&
               x.header().string_match().has_exact() && !x.header().invert_match();
      });
      const bool paths = !rules.empty() && std::all_of(rules.begin(), rules.end(), [](const rbac::Permission& x) {
        return x.has_url_path() && x.url_path().has_path();
      });
      if (methods && !rule.contains("methods")) {
        for (const auto& x : rules) rule["methods"].push_back(x.header().string_match().exact());
        return {};
      }
      if (paths && !rule.contains("paths")) {
        for (int i = 0; i < rules.size(); ++i) {
          config::StringMatcher m;
          if (auto e = stringMatcherFromEnvoy(rules[i].url_path().path(), indexPath(rp, i) + ".url_path.path", m);
              !e.empty())
            return e;
          rule["paths"].push_back(config::stringMatcherJson(m));
        }
        return {};
      }
      break;
    }
    case rbac::Permission::kHeader: {
      const auto& h = p.header();
      if (h.name() == ":method" && h.has_string_match() && h.string_match().has_exact() && !h.invert_match() &&
          !rule.contains("methods")) {
        rule["methods"].push_back(h.string_match().exact());
        return {};
      }
      config::HeaderMatcher m;
      if (auto e = headerMatcherFromEnvoy(h, fieldPath(path, "header"), m); !e.empty()) return e;
      rule["headers"].push_back(config::headerMatcherJson(m));
      return {};
    }
    case rbac::Permission::kUrlPath: {
      if (rule.contains("paths")) break;
      config::StringMatcher m;
      if (auto e = stringMatcherFromEnvoy(p.url_path().path(), fieldPath(path, "url_path.path"), m); !e.empty())
        return e;
      rule["paths"].push_back(config::stringMatcherJson(m));
      return {};
    }
    default:
      break;
  }
  return {std::string(path),
          "Sluice takes any, header, url_path, an or_rules of :method headers or of url_paths, and and_rules of those"};
}

}  // namespace

bool rbacToEnvoy(const config::AuthzPolicy& policy, rbac::RBAC& out) {
  const AuthzAction rule_action =
      policy.default_action == AuthzAction::Allow ? AuthzAction::Deny : AuthzAction::Allow;
  const bool whole = std::all_of(policy.rules.begin(), policy.rules.end(),
                                 [&](const config::AuthzRule& r) { return r.action == rule_action; });
  if (!whole) {
    out.set_action(rbac::RBAC::DENY);
    auto& p = (*out.mutable_policies())[std::string(kFailClosed)];
    p.add_permissions()->set_any(true);
    p.add_principals()->set_any(true);
    return false;
  }
  out.set_action(rule_action == AuthzAction::Allow ? rbac::RBAC::ALLOW : rbac::RBAC::DENY);
  for (const auto& r : policy.rules) ruleToEnvoy(r, (*out.mutable_policies())[r.name]);
  return true;
}

FieldError rbacFromEnvoy(const rbac::RBAC* rules, std::string_view path, config::AuthzLayer, json& j) {
  if (rules == nullptr) {
    j["default_action"] = "allow";
    return {};
  }
  if (auto e = unsupportedField(*rules, path, {"action", "policies"}); !e.empty()) return e;
  if (rules->action() != rbac::RBAC::ALLOW && rules->action() != rbac::RBAC::DENY)
    return {fieldPath(path, "action"), "Sluice takes ALLOW or DENY"};
  const bool allow = rules->action() == rbac::RBAC::ALLOW;
  j["default_action"] = allow ? "deny" : "allow";
  j["rules"] = json::array();
  std::vector<std::string> names;
  for (const auto& [name, _] : rules->policies()) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const auto& pol = rules->policies().at(name);
    const std::string pp = fieldPath(path, "policies[" + name + "]");
    if (auto e = unsupportedField(pol, pp, {"permissions", "principals"}); !e.empty()) return e;
    json rule = {{"name", name}, {"action", allow ? "allow" : "deny"}};
    if (pol.permissions_size() != 1) {
      // Several permissions are OR'd: ours only as alternatives of one kind.
      rbac::Permission merged;
      for (const auto& p : pol.permissions()) *merged.mutable_or_rules()->add_rules() = p;
      if (pol.permissions_size() == 0) return {fieldPath(pp, "permissions"), "needs at least one permission"};
      if (auto e = permissionFromEnvoy(merged, fieldPath(pp, "permissions"), rule, true); !e.empty()) return e;
    } else if (auto e = permissionFromEnvoy(pol.permissions(0), indexPath(fieldPath(pp, "permissions"), 0), rule, true);
               !e.empty()) {
      return e;
    }
    json principals = json::array();
    bool any = false;
    for (int i = 0; i < pol.principals_size(); ++i)
      if (auto e = principalFromEnvoy(pol.principals(i), indexPath(fieldPath(pp, "principals"), i), principals, any);
          !e.empty())
        return e;
    if (pol.principals_size() == 0) return {fieldPath(pp, "principals"), "needs at least one principal"};
    if (!any) rule["principals"] = principals;
    j["rules"].push_back(std::move(rule));
  }
  return {};
}

}  // namespace sluice::xds
