#pragma once
// The Aggregated Discovery Service: envoy.service.discovery.v3's
// StreamAggregatedResources (state of the world) and
// DeltaAggregatedResources (incremental), per Envoy's xDS protocol document,
// on gRPC C++'s callback API (its threads; no thread per stream).
//
// Each stream belongs to the group its first request's node maps to. A
// publish() replaces a group's snapshot and every stream of the group gets
// the types that changed (only those), in the order clusters, endpoints,
// listeners, routes; in delta, only the changed resources and explicit
// removals. A response is ACKed or NACKed by the client's next request of
// that type (nonce and version_info; error_detail on a NACK), tracked per
// stream and type. A NACKed version is not sent again: the stream waits for
// the next publish.
//
// A stream sends its initial metadata as soon as it starts, so a client
// knows the stream is up before there is anything to send it. Each
// response body is serialized once per group snapshot and shared by every
// stream that sends it, only the nonce being the stream's own
// (control/ads_shared_response.h).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control/snapshot.h"
#include "envoy/config/core/v3/base.pb.h"

namespace prometheus {
class Registry;
}
namespace grpc {
class Service;
}

namespace sluice::control {

// The group a node belongs to (from its id or cluster); empty: none, and the
// stream gets nothing until a group for it appears (the matcher is asked
// again for such streams at each publish()). Called under the server's
// lock on gRPC's or publish()'s thread: it must be quick and must not call
// back into the server.
using GroupMatcher = std::function<std::string(const envoy::config::core::v3::Node& node)>;

// One connected proxy, for `sluice-control status` and /status.
struct ProxyStatus {
  std::string node_id;
  std::string node_cluster;
  std::string group;
  std::string peer;  // "ipv4:127.0.0.1:53412"
  bool delta = false;
  std::chrono::system_clock::time_point connected_at;
  struct PerType {
    std::string type_url;
    std::string version_sent;
    std::string version_acked;
    // SYNCED: the last version sent is ACKed; STALE: sent and not yet
    // answered (or behind the group's current version); NACKED: the client
    // refused it (error below).
    enum class State { Synced, Stale, Nacked } state = State::Stale;
    std::string error;  // the NACK's error_detail message
  };
  std::vector<PerType> types;
};
std::string_view stateName(ProxyStatus::PerType::State s);  // "SYNCED", "STALE", "NACKED"

class AdsServer {
 public:
  struct Options {
    std::string address = "127.0.0.1:15010";  // host:port; port 0 picks one (see port())
    GroupMatcher match;
    // proxies connected, pushes (every response written), push latency
    // (publish() to a response written; responses to requests are not
    // timed) and NACKs, by type: control/ads_metrics.h.
    prometheus::Registry* metrics = nullptr;
  };
  explicit AdsServer(Options options);
  ~AdsServer();  // shuts down
  AdsServer(const AdsServer&) = delete;
  AdsServer& operator=(const AdsServer&) = delete;

  // Binds and starts serving; false with a message when it cannot.
  bool start(std::string& error);
  // The bound port (after start()).
  int port() const;
  // Ends every stream and stops.
  void shutdown();

  // Replaces `snapshot->group`'s snapshot and pushes the difference to its
  // streams. Any thread.
  void publish(std::shared_ptr<const GroupSnapshot> snapshot);
  // The matcher's answers may have changed (a new config): every stream's
  // node is matched again, and a stream whose group changed follows the
  // new group's snapshot from now on (getting what differs). Any thread;
  // call it after the matcher sees the new config.
  void rematch();
  // Every connected proxy, by node id. Any thread.
  std::vector<ProxyStatus> status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::control
