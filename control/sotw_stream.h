#pragma once
// One StreamAggregatedResources stream (state of the world).
//
// Per type URL the stream keeps the client's subscription and what it was
// last sent. A response carries the type's snapshot version, a fresh nonce,
// and the whole state of the type for this client: every resource for a
// wildcard subscription (Listener and Cluster when the first request names
// none, or "*"), else the named ones that exist. A Listener name the
// snapshot lacks is resolved on demand (proxyless gRPC's "echo:50051").
//
// A request whose response_nonce is not the latest sent for its type is
// stale and ignored. One with the latest nonce ACKs it, or NACKs it with
// error_detail: the version is then not sent again until a publish()
// changes it. A request that changes the subscription is answered at the
// current version. A publish() sends, in xds::kSendOrder, each subscribed
// type whose version differs from the one last sent; a newer response does
// not wait for the older one's ACK (the ACK then carries a stale nonce and
// is ignored), but one still queued behind a write is replaced.
//
// The response bodies come from the group's ServedSnapshot, keyed by type
// and subscription: streams of a group with the same subscription share
// one serialized body per type and version (control/ads_shared_response.h).

#include <map>
#include <set>
#include <string>

#include "control/ads_stream.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::control {

class SotwStream final : public AdsStream<envoy::service::discovery::v3::DiscoveryRequest> {
 public:
  SotwStream(AdsHub& hub, grpc::CallbackServerContext* context) : AdsStream(hub, context, /*delta=*/false) {}

  void adopt(std::shared_ptr<const ServedSnapshot> served, std::chrono::steady_clock::time_point published) override;
  ProxyStatus status() const override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string, std::less<>> names;
    bool sent = false;  // a response went (or is queued)
    std::string nonce;  // the latest response's
    std::string version_sent;
    // The latest response: held, it stays shared with the streams that ask
    // for the same after this one.
    std::shared_ptr<const SharedResponse> response;
    std::string version_acked;
    bool acked = false;   // the latest response is ACKed
    bool nacked = false;  // the latest response is NACKed
    std::string error;
  };

  void handle(const envoy::service::discovery::v3::DiscoveryRequest& request) override;
  // The version this client's response of `type_url` has: the type's, plus
  // a digest of the on-demand listeners it includes (they change with the
  // route tables, not with the listeners).
  std::string versionFor(const std::string& type_url, const TypeState& t) const;
  void respond(const std::string& type_url, TypeState& t, std::chrono::steady_clock::time_point published);

  std::shared_ptr<const ServedSnapshot> served_;
  std::map<std::string, TypeState, std::less<>> types_;
};

}  // namespace sluice::control
