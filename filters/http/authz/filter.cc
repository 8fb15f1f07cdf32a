#include "filters/http/authz/filter.h"

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"

namespace sluice::filters::authz {

using sluice::http::FilterHeadersStatus;

FilterHeadersStatus AuthzFilter::decodeHeaders(sluice::http::HeaderMap& headers, bool) {
  // A per-route entry under our name was built by our factory: an AuthzConfig.
  const auto* route_cfg = static_cast<const AuthzConfig*>(decoder_callbacks_->perFilterConfig(kFilterName));
  const AuthzConfig& cfg = route_cfg != nullptr ? *route_cfg : config_;
  const net::Connection& conn = decoder_callbacks_->downstreamConnection();
  sluice::authz::RequestFacts facts = sluice::authz::connectionFacts(conn.peerAddress(), conn.tlsInfo());
  facts.request = &headers;
  if (cfg.enforcer.decide(facts, decoder_callbacks_->loop().now()).allowed) return FilterHeadersStatus::Continue;
  decoder_callbacks_->sendLocalReply(403, "RBAC: access denied\n", sluice::http::ResponseFlag::AuthzDenied,
                                     "authz_denied");
  return FilterHeadersStatus::StopIteration;
}

}  // namespace sluice::filters::authz
