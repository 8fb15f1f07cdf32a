#pragma once
// What the ADS client has asked for and received, per resource type, and
// what it must tell the server about it (state of the world). Plain state
// on the main thread, no I/O: AdsClient drives it and sends the requests
// it builds; tests drive it directly.
//
// Three sets of resources per type:
//   candidate - a response merged into `accepted`, while it is checked;
//   accepted  - passed assembly, perhaps not yet published (a response whose
//               ACK is held while what it references is awaited);
//   acked     - published and ACKed: what the proxy serves. A NACK or a
//               failed publish rolls `accepted` back to it.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "proxy/event/timer.h"
#include "xds/from_envoy.h"

namespace sluice::ads {

struct TypeState {
  std::string type_url;
  bool wildcard = false;        // LDS and CDS: every resource the server has for us
  std::set<std::string> names;  // the others: exactly these
  xds::ResourceMap accepted;
  xds::ResourceMap acked;
  // Per resource: the version_info of the response that last carried it.
  std::map<std::string, std::string, std::less<>> accepted_versions;
  std::map<std::string, std::string, std::less<>> acked_versions;
  std::string acked_version;  // version_info of the last ACK ("" before the first)
  std::string nonce;          // of the last response on the current stream
  std::string requested_nonce;  // the nonce the last (SotW) request of the type carried
  // A response that passed assembly and waits to be published: its ACK.
  struct Pending {
    std::string version;
    std::string nonce;
  };
  std::optional<Pending> pending;
  struct Nack {
    std::string version;  // the rejected response's version_info
    std::string error;
    std::chrono::system_clock::time_point at;
  };
  std::optional<Nack> last_nack;
  // When each name (or, wildcard, the type) was first asked for, until it
  // first arrives: it is awaited until then plus initial_fetch_timeout.
  std::map<std::string, event::MonoTime> waiting_since;
  std::optional<event::MonoTime> type_waiting_since;  // wildcard types before their first response
  bool requested = false;  // a request went out on the current stream

  void rollBack();  // accepted = acked, pending dropped
  void commit();    // acked = accepted (the caller ACKs `pending`)
};

class Subscriptions {
 public:
  // LDS and CDS wildcard, RDS, EDS and SDS by name (none yet).
  explicit Subscriptions(event::MonoTime now);

  TypeState* find(std::string_view type_url);
  TypeState& at(std::string_view type_url) { return *find(type_url); }
  // In xds::kSendOrder.
  std::vector<TypeState*> all();

  // Sets a named type's interest. Names dropped leave `accepted` (and, as
  // they are no longer served, `acked`); names added start waiting at `now`.
  // Returns whether the set changed (then a request must go out).
  bool setNames(std::string_view type_url, const std::set<std::string>& names, event::MonoTime now);

  // The names (as "Type 'name'", or "Type (first response)") the client
  // still waits for at `now`, and the earliest moment one stops being
  // awaited; waits end at arrival or at waiting_since + timeout.
  struct Awaited {
    std::vector<std::string> what;
    std::optional<event::MonoTime> until;
  };
  Awaited awaited(event::MonoTime now, event::Duration timeout) const;

  // Marks what a response brought as arrived.
  void arrived(TypeState& t);

  // Every type's accepted (or acked) resources, for assembly.
  xds::ReceivedResources received(bool acked_only) const;

  // The request that (re)states a type's interest: its names, the version
  // last ACKed and the nonce last seen on this stream. Without the node
  // (the caller adds it to a stream's first request).
  envoy::service::discovery::v3::DiscoveryRequest request(const TypeState& t) const;
  // Same, rejecting the response with `nonce`: version_info stays the last
  // ACKed one, and error_detail says why (INVALID_ARGUMENT).
  envoy::service::discovery::v3::DiscoveryRequest nack(const TypeState& t, const std::string& nonce,
                                                       const std::string& error) const;

  // A new stream: nonces and held responses are forgotten, every type must
  // be requested again (with its acked version).
  void newStream();

 private:
  std::vector<TypeState> types_;  // in send order
};

}  // namespace sluice::ads
