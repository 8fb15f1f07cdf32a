#pragma once
// An authorization policy as plain data, shared by the network (L4) and HTTP
// authz filters' specs; the proxy builds its runtime policy from it
// (proxy/authz/policy.h) when a snapshot is built. The shape, inside a
// filter's mapping beside its own keys such as stat_prefix:
//
//   default_action: allow          # allow (default) | deny: when no rule matches
//   rules:
//     - name: allow-client         # optional (default "rules[i]"); unique, not "default"
//       action: allow              # required: allow | deny
//       principals:                # OR; absent = any peer
//         - {spiffe_id: {exact: "spiffe://td/ns/default/sa/client"}}
//         - {spiffe_id: {prefix: "spiffe://td/ns/prod/"}}   # on path segment boundaries
//         - {source_ip: "10.0.0.0/8"}                      # or a bare address; IPv4 or IPv6
//         - {authenticated: true}                         # any verified peer certificate
//       methods: [GET, HEAD]       # HTTP only; OR
//       paths: [{prefix: /api}, {exact: /healthz}]        # HTTP only; OR; route string matchers
//       headers: [{name: x-env, exact: prod}]             # HTTP only; AND; route header matchers
//
// Decision rules and what the facts are: proxy/authz/policy.h.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/matchers.h"
#include "identity/spiffe_id.h"
#include "ip/cidr.h"

namespace sluice::config {

class MapReader;

enum class AuthzAction { Allow, Deny };
std::string_view authzActionName(AuthzAction a);  // "allow" | "deny"

// Which filter reads the policy: a connection has no request, so request
// conditions are errors at Network.
enum class AuthzLayer { Network, Http };
std::string_view authzLayerName(AuthzLayer layer);  // "network" | "http"

struct AuthzPrincipal {
  enum class Kind { SpiffeId, SourceIp, Authenticated };
  Kind kind = Kind::Authenticated;
  // Kind::SpiffeId: a prefix is matched on segment boundaries, as the
  // matcher's "ID/*" pattern; the value is kept as written for the dump.
  std::optional<identity::SpiffeIdMatcher> spiffe;
  bool spiffe_prefix = false;  // written as `prefix:` (else `exact:`)
  std::string spiffe_value;
  std::optional<ip::Cidr> source;  // Kind::SourceIp
};

struct AuthzRule {
  std::string name;  // "rules[i]" unless named; unique within a policy
  AuthzAction action = AuthzAction::Allow;
  std::vector<AuthzPrincipal> principals;  // OR; empty = any peer
  std::vector<std::string> methods;        // OR; empty = any
  std::vector<StringMatcher> paths;        // OR; on the normalized path without query
  std::vector<HeaderMatcher> headers;      // AND
};

struct AuthzPolicy {
  std::vector<AuthzRule> rules;
  AuthzAction default_action = AuthzAction::Allow;
};

// Reads `default_action` and `rules` from r (not finish(): the caller owns
// the other keys). Errors go to r.ctx(); a principal that could not be read
// is left out, so a policy with errors is only fit for reporting them.
AuthzPolicy readAuthzPolicy(MapReader& r, AuthzLayer layer);

// The canonical form (default_action, rules) for /config_dump.
nlohmann::json authzPolicyJson(const AuthzPolicy& policy);

}  // namespace sluice::config
