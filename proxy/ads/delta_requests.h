#pragma once
// The incremental (delta) xDS requests the ADS client sends, built from a
// type's state; the delta counterpart of Subscriptions::request/nack. Plain
// functions, no state: main thread or tests.
//
// Unlike state of the world, a delta request says what changed: names
// subscribed and unsubscribed since the last request on the stream. An
// ACK or NACK carries only the nonce (and error_detail): it changes no
// subscription.

#include <set>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "proxy/ads/subscriptions.h"

namespace sluice::ads {

// A stream's first request for a type: the wildcard ("*") or every name,
// and initial_resource_versions with each resource the client holds (as last
// ACKed), so that a resuming server sends only what changed.
envoy::service::discovery::v3::DeltaDiscoveryRequest deltaInitial(const TypeState& t);

// A named type's interest changed from `before` to t.names.
envoy::service::discovery::v3::DeltaDiscoveryRequest deltaInterest(const TypeState& t, const std::set<std::string>& before);

envoy::service::discovery::v3::DeltaDiscoveryRequest deltaAck(const TypeState& t, const std::string& nonce);
// error_detail INVALID_ARGUMENT with `error`.
envoy::service::discovery::v3::DeltaDiscoveryRequest deltaNack(const TypeState& t, const std::string& nonce,
                                                               const std::string& error);

}  // namespace sluice::ads
