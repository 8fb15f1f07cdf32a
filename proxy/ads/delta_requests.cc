#include "proxy/ads/delta_requests.h"

namespace sluice::ads {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;

DeltaDiscoveryRequest deltaInitial(const TypeState& t) {
  DeltaDiscoveryRequest req;
  req.set_type_url(t.type_url);
  // "*" said out loud: an empty first request also means wildcard for
  // Listener and Cluster, but not for every server and not for other types.
  if (t.wildcard) req.add_resource_names_subscribe()->assign(1, '*');
  for (const auto& n : t.names) req.add_resource_names_subscribe(n);
  for (const auto& [name, version] : t.acked_versions) (*req.mutable_initial_resource_versions())[name] = version;
  return req;
}

DeltaDiscoveryRequest deltaInterest(const TypeState& t, const std::set<std::string>& before) {
  DeltaDiscoveryRequest req;
  req.set_type_url(t.type_url);
  for (const auto& n : t.names)
    if (!before.count(n)) req.add_resource_names_subscribe(n);
  for (const auto& n : before)
    if (!t.names.count(n)) req.add_resource_names_unsubscribe(n);
  return req;
}

DeltaDiscoveryRequest deltaAck(const TypeState& t, const std::string& nonce) {
  DeltaDiscoveryRequest req;
  req.set_type_url(t.type_url);
  req.set_response_nonce(nonce);
  return req;
}

DeltaDiscoveryRequest deltaNack(const TypeState& t, const std::string& nonce, const std::string& error) {
  auto req = deltaAck(t, nonce);
  req.mutable_error_detail()->set_code(3);  // google.rpc.Code.INVALID_ARGUMENT
  req.mutable_error_detail()->set_message(error);
  return req;
}

}  // namespace sluice::ads
