#pragma once
// An authz policy (config/authz_policy.h) both ways with Envoy's
// config.rbac.v3.RBAC, for the HTTP and the network authz filters.
//
// Envoy's RBAC has one action for all its policies, kept in a map (no
// order); Sluice's rules each have an action and the first match wins. A
// policy whose rules all take the action opposite to default_action means
// the same either way, and is written as RBAC{action, policies named after
// the rules}. Any other policy cannot be: it is written as a deny-all RBAC
// (Envoy fails closed) and the caller keeps the whole spec in io.sluice
// metadata.
//
// Principals: spiffe_id -> authenticated.principal_name (exact / prefix),
// source_ip -> direct_remote_ip, authenticated -> authenticated{}; none ->
// any. Permissions: methods -> ":method" header matchers (or_rules),
// paths -> url_path (or_rules), headers -> header, all in and_rules.

#include <nlohmann/json.hpp>

#include "config/authz_policy.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

// True when `out` says what the policy says.
bool rbacToEnvoy(const config::AuthzPolicy& policy, envoy::config::rbac::v3::RBAC& out);
// `rules` null: no RBAC rules (Envoy allows everything). Adds default_action
// and rules, in our YAML schema, to `j`, for the filter's reader.
FieldError rbacFromEnvoy(const envoy::config::rbac::v3::RBAC* rules, std::string_view path, config::AuthzLayer layer,
                         nlohmann::json& j);

}  // namespace sluice::xds
