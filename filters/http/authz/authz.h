#pragma once
// authz (HTTP): allows or denies each request by its peer (verified SPIFFE
// ID, source IP, any verified certificate) and its method, path and
// headers; a denied request is answered 403 "RBAC: access denied" with
// response flag AZ and never reaches later filters or the upstream.
//
//   http_filters:
//     - authz:
//         stat_prefix: api             # required; label on the metrics
//         default_action: allow
//         rules:
//           - name: no-admin
//             action: deny
//             paths: [{prefix: /admin}]
//           - name: clients-read
//             action: allow
//             principals: [{spiffe_id: {exact: "spiffe://td/ns/default/sa/client"}}]
//             methods: [GET, HEAD]
//
// Policy shape and evaluation: proxy/authz/policy_parser.h, policy.h. Paths
// are matched normalized (dot segments, repeated slashes and escaped
// unreserved characters resolved), so "/x/../admin" meets the rule on
// /admin. source_ip is the TCP peer, not x-forwarded-for: a header the
// client writes is no identity.
//
// A route's or virtual host's `per_filter_config: {authz: {...}}` replaces
// the listener-level policy for its requests (whole, not merged; same
// schema, its own stat_prefix). List authz first in http_filters so nothing
// runs for a denied request.

#include <memory>

#include "proxy/authz/enforcer.h"
#include "proxy/http/filter.h"
#include "filters/legacy.h"

namespace sluice::filters::authz {

struct AuthzConfig final : sluice::http::HttpFilterConfig {
  sluice::authz::Enforcer enforcer;
  nlohmann::json toJson() const override { return enforcer.toJson(); }
};

// Decides in decodeHeaders; stateless otherwise. One per stream.
class AuthzFilter final : public sluice::http::PassThroughDecoderFilter {
 public:
  explicit AuthzFilter(const AuthzConfig& config) : config_(config) {}
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;

 private:
  const AuthzConfig& config_;  // listener level; a per-route config overrides it
};

const legacy::HttpFactory& factory();

}  // namespace sluice::filters::authz
