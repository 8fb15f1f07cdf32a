#pragma once
// authz (L4): a non-terminal network filter that allows or refuses each new
// connection by its peer: verified SPIFFE ID, source IP, or any verified
// certificate (policy shape: config/authz_policy.h). Placed before the
// terminal filter:
//
//   listeners:
//     - name: inbound
//       address: 0.0.0.0:15006
//       authz:
//         stat_prefix: inbound      # required; label on the metrics
//         default_action: deny
//         rules:
//           - {name: mesh, action: allow, principals: [{spiffe_id: {prefix: "spiffe://td/ns/prod/"}}]}
//           - {name: ops, action: allow, principals: [{source_ip: 10.1.0.0/16}]}
//       tcp_proxy: {cluster: app}
//
// methods/paths/headers are config errors here: a connection carries no
// request (use the HTTP authz filter for those).

#include <string>

#include "config/authz_policy.h"
#include "config/filter_spec.h"

namespace sluice::filters::network_authz {

struct Spec final : config::FilterSpec {
  std::string stat_prefix;
  config::AuthzPolicy policy;  // read at config::AuthzLayer::Network

  nlohmann::json toJson() const override;
};

const config::NetworkFilterReader& reader();

}  // namespace sluice::filters::network_authz
