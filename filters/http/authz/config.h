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
// Policy shape: config/authz_policy.h; evaluation: proxy/authz/policy.h.
// Paths are matched normalized (dot segments, repeated slashes and escaped
// unreserved characters resolved), so "/x/../admin" meets the rule on
// /admin. source_ip is the TCP peer, not x-forwarded-for: a header the
// client writes is no identity.
//
// A route's or virtual host's `per_filter_config: {authz: {...}}` replaces
// the listener-level policy for its requests (whole, not merged; same
// schema, its own stat_prefix). List authz first in http_filters so nothing
// runs for a denied request.

#include <string>
#include <string_view>

#include "config/authz_policy.h"
#include "config/filter_spec.h"

namespace sluice::filters::authz {

inline constexpr std::string_view kFilterName = "authz";

struct Spec final : config::FilterSpec {
  std::string stat_prefix;
  config::AuthzPolicy policy;  // read at config::AuthzLayer::Http

  nlohmann::json toJson() const override;
};

// Reads the listener-level mapping and per_filter_config entries (same schema).
const config::HttpFilterReader& reader();

}  // namespace sluice::filters::authz
