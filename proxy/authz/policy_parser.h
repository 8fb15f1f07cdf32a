#pragma once
// YAML <-> authz Policy, shared by the network and HTTP authz filters. The
// shape (inside a filter's mapping, beside its own keys such as stat_prefix):
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
// Runs on the main thread at config load; never throws.

#include <string_view>

#include <nlohmann/json.hpp>

#include "proxy/authz/policy.h"

namespace sluice::config {
class MapReader;
}

namespace sluice::authz {

enum class Layer { Network, Http };
std::string_view layerName(Layer layer);  // "network" | "http"

// Reads `default_action` and `rules` from r (not finish(): the caller owns
// the other keys). At Layer::Network, methods/paths/headers are errors: a
// connection has no request to match them against. Errors go to r.ctx().
Policy parsePolicy(config::MapReader& r, Layer layer);

// The canonical form (default_action, rules) for /config_dump.
nlohmann::json policyJson(const Policy& policy);

}  // namespace sluice::authz
