#pragma once
// The ADS client: the ConfigSource of a bootstrap with `dynamic.ads`. It
// keeps one aggregated xDS stream open to the control plane (state of the
// world, or incremental with `delta: true`), subscribes to listeners and
// clusters (wildcard), then to the route configurations, endpoints and
// secrets they name, and turns what arrives into whole configs for the
// server's ConfigSink. Main thread only, the stream's transport included
// (ads_stream.h).
//
// The two flavours differ only in the messages (delta_requests.h builds the
// delta ones); everything below holds for both. On each response:
//   1. its resources replace the type's (state of the world: Listener and
//      Cluster the whole set, the others the names it carries; delta: the
//      resources it adds or updates, each with its own version, and minus
//      its removed_resources);
//   2. xds::assemble(base, everything received) turns them, with the
//      bootstrap's static resources, into a Config, or into errors naming
//      each bad resource and field;
//   3. errors: NACK (the nonce, error_detail INVALID_ARGUMENT with the
//      errors; state of the world adds version_info = the type's last ACKed
//      version), and the type goes back to what was last ACKed;
//   4. otherwise the config is published through ConfigSink::apply and the
//      response ACKed, or NACKed if apply refuses it.
//
// Warming, the exact rule: a config is published only when nothing it needs
// is still awaited. Awaited are, for up to initial_fetch_timeout from the
// moment each was first asked for: a wildcard type's first response, and
// each route configuration, load assignment or secret named by an accepted
// listener or cluster that has not arrived yet. Until then the responses
// that passed assembly are held, their ACKs too, and published together
// (so a new cluster's endpoints come with the cluster, and a listener with
// its routes); the certificate agent's secret (`dynamic.ca.secret_name`) is
// neither asked for nor awaited: the server waits for it itself. When the
// timeout passes the proxy serves without what is missing (503 NC for a
// cluster that never came, 404 NR for routes). A route naming a cluster
// the server never sent is not awaited (the client did not ask for it by
// name): it answers 503 NC at once, until the cluster comes.
//
// The stream lost: the proxy keeps serving what it last published,
// reconnects after reconnectDelay() (reconnect_backoff.h) and asks again for
// every type with the versions it last ACKed (delta: each resource's in
// initial_resource_versions). A response received proves the stream, and
// resets the backoff.
//
// Metrics (main thread):
//   sluice_xds_connected                   1 from the moment the server answers the
//                                          stream (its initial metadata: sluice-control
//                                          sends it at once, before it has anything to
//                                          send; other servers may send it with their
//                                          first response) until the stream ends; 0
//                                          while connecting and between streams
//   sluice_xds_stream_reconnects_total     streams opened after the first
//   sluice_xds_updates_accepted_total{type}  responses ACKed
//   sluice_xds_updates_rejected_total{type}  responses NACKed
//   sluice_xds_resources{type}             resources served (last ACKed)

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "proxy/ads/ads_stream.h"
#include "proxy/ads/subscriptions.h"
#include "proxy/event/loop.h"
#include "proxy/server/config_source.h"
#include "proxy/stats/named_counters.h"
#include "proxy/util/random.h"

namespace sluice::ads {

// Opens a stream; the real one is openGrpcAdsStream (tests give their own).
using StreamFactory = std::function<std::unique_ptr<AdsStream>(AdsStreamEvents&)>;

class AdsClient final : public server::ConfigSource, private AdsStreamEvents {
 public:
  // `base`: the bootstrap file as loaded, whose bootstrap and static
  // resources every assembled config keeps. Opens nothing until start().
  AdsClient(event::Loop& loop, server::ConfigSink& sink, std::shared_ptr<const config::Config> base,
            StreamFactory factory);
  ~AdsClient() override;

  void start() override;
  // The last published resources assembled again (SIGHUP, POST /reload):
  // the static ones are read once at start.
  config::LoadResult load() override;
  std::string describe() const override;
  // For /config_dump: each resource's name, type, version and origin, and
  // per type the versions, the stream state and the last NACK.
  nlohmann::json status() const override;

 private:
  void onStreamEstablished() override;
  void onResponse(std::unique_ptr<DiscoveryResponse> response) override;
  void onDeltaResponse(std::unique_ptr<DeltaDiscoveryResponse> response) override;
  void onStreamClosed(const std::string& why) override;

  // The type a response is for, or null (logged); the stream proved.
  TypeState* responded(const std::string& type_url);
  // Steps 2-4 for a type's candidate set, built by either flavour.
  void consider(TypeState& t, xds::ResourceMap candidate, std::map<std::string, std::string, std::less<>> versions,
                std::vector<std::string> errors, const std::string& version, const std::string& nonce);

  void connect();
  void send(DiscoveryRequest request);
  void send(DeltaDiscoveryRequest request);
  // The request that states a type's interest; `before`: the names the
  // stream was last told (delta sends the difference).
  void sendInterest(TypeState& t, const std::set<std::string>& before);
  void sendAck(TypeState& t, const std::string& nonce);
  // Recomputes the named types' interest from the accepted listeners and
  // clusters; sends a request for each type whose names changed.
  void updateInterest();
  // Publishes the accepted set if nothing is awaited, ACKing what was held;
  // otherwise arms the timer for the first wait to end.
  void tryPublish();
  void nack(TypeState& t, const std::string& nonce, const std::string& version, const std::string& error);
  void refreshResourceGauges();

  struct TypeMetrics {
    std::shared_ptr<stats::NamedCounter> accepted, rejected, resources;
  };
  event::Loop& loop_;
  server::ConfigSink& sink_;
  std::shared_ptr<const config::Config> base_;
  const config::AdsSpec spec_;
  StreamFactory factory_;
  Subscriptions subs_;
  std::unique_ptr<AdsStream> stream_;
  bool first_on_stream_ = true;  // the node goes in a stream's first request only
  uint32_t failures_ = 0;        // consecutive streams that ended without a response
  std::unique_ptr<event::Timer> reconnect_timer_;
  std::unique_ptr<event::Timer> warming_timer_;
  std::string stream_state_ = "connecting";
  uint64_t streams_opened_ = 0;
  std::shared_ptr<stats::NamedCounter> connected_gauge_;
  std::shared_ptr<stats::NamedCounter> reconnects_;
  std::map<std::string, TypeMetrics, std::less<>> type_metrics_;  // by type_url
};

}  // namespace sluice::ads
