#pragma once
// Authorization policy at run time: built from its spec
// (config/authz_policy.h) when a snapshot is built, with path and header
// regexes compiled, then shared immutable by the network (L4) and HTTP authz
// filters, which only gather the facts of a connection or request and act
// on the decision.
//
// A rule matches when every condition it states matches:
//   - principals (OR): a verified peer SPIFFE ID (exact, or under a path
//     prefix on segment boundaries), a source IP prefix, or "any verified
//     peer certificate". No principals = any peer.
//   - methods (OR), paths (OR), headers (AND): HTTP only. A rule with any of
//     them never matches at L4 (the network filter's reader rejects them).
// Decision: any matching deny rule denies; else any matching allow rule
// allows; else the default action. Deny rules are checked first, so a
// request matching both is denied whatever the rule order.
//
// Identity comes only from a certificate the TLS handshake verified: a
// plaintext connection, or an unverified certificate, has no SPIFFE ID and
// is not authenticated, so identity principals never match it.
//
// evaluate() is a pure function of the policy and the facts: any thread, no
// allocation. Path rules match the request's :path without its query, which
// the connection manager has already normalized (proxy/http/path_normalizer.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/authz_policy.h"
#include "ip/cidr.h"
#include "proxy/http/route_config.h"
#include "proxy/net/transport_socket.h"
#include "proxy/tls/peer_identity.h"

namespace sluice::authz {

using Action = config::AuthzAction;
using Layer = config::AuthzLayer;
// Principals are plain values (a parsed SPIFFE pattern, a CIDR) that match
// as they are: nothing to compile.
using Principal = config::AuthzPrincipal;

struct Rule {
  std::string name;  // "rules[i]" unless named; unique within a policy
  Action action = Action::Allow;
  std::vector<Principal> principals;  // OR; empty = any peer
  std::vector<std::string> methods;   // OR; empty = any
  std::vector<http::StringMatcher> paths;    // OR; on the (normalized) path without query
  std::vector<http::HeaderMatcher> headers;  // AND
  bool hasHttpConditions() const { return !methods.empty() || !paths.empty() || !headers.empty(); }

  static Rule build(const config::AuthzRule& spec);
};

struct Policy {
  std::vector<Rule> rules;
  Action default_action = Action::Allow;

  // From a spec its reader accepted (its regexes compile).
  static Policy build(const config::AuthzPolicy& spec);
};

// What a decision is made on. Views; valid for the evaluate() call.
struct RequestFacts {
  const sockaddr* source = nullptr;  // the downstream TCP peer
  std::string_view spiffe_id;        // of a verified peer certificate; empty: none
  bool authenticated = false;        // the peer presented a certificate that verified
  const http::HeaderMap* request = nullptr;  // HTTP request headers; null at L4
};

// Facts of a downstream connection: its peer address and, when the TLS
// handshake verified a peer certificate, its identity. `tls` may be null.
RequestFacts connectionFacts(const ip::Address& peer, const net::TlsInfo* tls);

struct Decision {
  bool allowed = true;
  std::optional<size_t> rule;  // index of the deciding rule; none = the default action
};

Decision evaluate(const Policy& policy, const RequestFacts& facts);

}  // namespace sluice::authz
