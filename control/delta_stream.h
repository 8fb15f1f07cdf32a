#pragma once
// One DeltaAggregatedResources stream (incremental xDS).
//
// Per type URL the stream keeps the client's subscription (wildcard: "*",
// or no names on the first request for Listener and Cluster; else the
// names subscribed and not since unsubscribed) and what the client holds:
// each resource's version, from initial_resource_versions on the first
// request (a reconnecting client resumes) and from every response since.
// A response carries only the resources whose version differs from the
// client's and, in removed_resources, the names the client holds that are
// subscribed and no longer exist; system_version_info is the type's
// snapshot version; each has a fresh nonce. A subscribed name that does
// not exist gets nothing (no removal: the client never held it), like a
// SotW response that leaves it out.
//
// ACK and NACK as in state of the world: a request whose response_nonce is
// the latest of its type ACKs it, or NACKs it with error_detail, and the
// refused resources are not sent again until they change. A request with
// an older nonce has no ACK meaning, but its subscribe/unsubscribe still
// apply (delta subscriptions are changes; dropping one would lose it). The
// first request of a type is always answered, even with nothing to send,
// so a client waiting for its initial fetch can proceed; later, nothing
// to send means no response.
//
// The response bodies come from the group's ServedSnapshot, keyed by type
// and the resources and removals they carry: streams of a group that lack
// the same changes (after a publish, every stream in sync) share one
// serialized body (control/ads_shared_response.h).

#include <map>
#include <set>
#include <string>

#include "control/ads_stream.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::control {

class DeltaStream final : public AdsStream<envoy::service::discovery::v3::DeltaDiscoveryRequest> {
 public:
  DeltaStream(AdsHub& hub, grpc::CallbackServerContext* context) : AdsStream(hub, context, /*delta=*/true) {}

  void adopt(std::shared_ptr<const ServedSnapshot> served, std::chrono::steady_clock::time_point published) override;
  ProxyStatus status() const override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string, std::less<>> names;
    std::map<std::string, std::string, std::less<>> held;  // name -> version, as the client holds it
    bool sent = false;
    std::string nonce;
    std::string version_sent;
    // The latest response: held, it stays shared with the streams that
    // lack the same after this one.
    std::shared_ptr<const SharedResponse> response;
    std::string version_acked;
    // The snapshot version the client's resources were last compared with:
    // a publish that changes nothing this client follows sends nothing and
    // leaves it in sync.
    std::string covered;
    bool acked = false;
    bool nacked = false;
    std::string error;
  };

  void handle(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request) override;
  // Queues what the client lacks of `type_url`; with `always`, even an
  // empty response.
  void respond(const std::string& type_url, TypeState& t, std::chrono::steady_clock::time_point published, bool always);

  std::shared_ptr<const ServedSnapshot> served_;
  std::map<std::string, TypeState, std::less<>> types_;
};

}  // namespace sluice::control
