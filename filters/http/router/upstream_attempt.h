#pragma once
// UpstreamAttempt: one try of a routed request against one host. The router
// keeps what belongs to the whole request (route, cluster, timeout, retry
// state, replay body, backoff); an attempt holds what belongs to one try:
//   - the pick, and the Cluster kept alive until its outcome is reported;
//   - the host's and cluster's active-request counts;
//   - the retry-budget slot the try holds (a retry's slot, handed over at start);
//   - the pool's pending handle, then the stream and its encoder;
//   - the per-try timer;
//   - the response decoder the pool delivers the response to.
//
// Embedded in its RouterFilter and reused for every try, so a retry allocates
// nothing. Worker thread only. It reports to the router by direct calls
// (onUpstreamReady, onUpstreamFailure, onPerTryTimeout, the response), from
// inside start() when the pool answers at once, else from the pool's I/O
// events or the timer.

#include <chrono>
#include <memory>
#include <optional>

#include "proxy/event/timer.h"
#include "proxy/http/codec.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/conn_pool.h"

namespace sluice::filters::router {

class RouterFilter;

class UpstreamAttempt final : public upstream::PoolCallbacks,
                              public upstream::StreamCallbacks,
                              public sluice::http::MessageDecoder {
 public:
  explicit UpstreamAttempt(RouterFilter& router) : router_(router) {}

  // Starts a try on `host` (`pick` of `cluster`: an original_dst cluster's
  // is {0, false}, which wants no outcome): counts it against the host and
  // the cluster, takes over `retry_slot` (null: none), arms the per-try
  // timer (0: none), and asks `pool` for a stream. The router may hear from
  // it before this returns.
  void start(upstream::Cluster& cluster, const upstream::Cluster::Pick& pick, const upstream::Host& host,
             stats::ClusterStats& cluster_stats, upstream::HttpConnPool& pool, upstream::RoutingPriority priority,
             upstream::Breaker* retry_slot, event::TimerQueue& timers, std::chrono::milliseconds per_try_timeout);
  // Ends the try's upstream part: the timer, the pool handle (cancelled), the
  // stream (released when `reuse`, the exchange having completed both ways,
  // else reset), the counts and the retry slot. Without a reported outcome a
  // half-open probe slot is given back. Harmless when no try is active.
  void end(bool reuse);
  // Tells passive health checking how the try went: once per try, and only
  // while it is active.
  void reportOutcome(upstream::HostOutcome outcome);
  // The try is over as far as the retry budget goes.
  void releaseRetrySlot();
  // The filter is going away: frees the timer.
  void onDestroy() { per_try_timer_.reset(); }

  // Null until the stream is ready, and again once it ended.
  sluice::http::MessageEncoder* encoder() const { return encoder_; }
  // Request bytes left for the upstream on this try.
  bool sent() const { return sent_; }
  // A retriable response is being read out (so the connection can be reused)
  // before the retry already decided; set until end().
  bool discarding() const { return discarding_; }
  void discard() { discarding_ = true; }
  // Pauses / resumes reading the response (downstream backpressure).
  void readDisable(bool disable);

  // upstream::PoolCallbacks.
  void onPoolReady(upstream::UpstreamStream& stream) override;
  void onPoolFailure(upstream::StreamResetReason reason, std::string_view detail) override;
  // upstream::StreamCallbacks.
  void onStreamReset(upstream::StreamResetReason reason, std::string_view detail) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  // The response (http::MessageDecoder).
  void decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override;
  void decodeTrailers(sluice::http::HeaderMap& trailers) override;

 private:
  RouterFilter& router_;
  upstream::Cluster::Pick pick_{};
  std::shared_ptr<upstream::Cluster> picked_cluster_;  // kept (across config swaps) until the outcome is reported
  bool outcome_reported_ = false;
  stats::HostStats* host_stats_ = nullptr;  // set while a try is active; lives until exit
  stats::ClusterStats* cluster_stats_ = nullptr;
  upstream::Breaker* retry_slot_ = nullptr;
  upstream::PendingStream* pool_handle_ = nullptr;
  upstream::UpstreamStream* stream_ = nullptr;
  sluice::http::MessageEncoder* encoder_ = nullptr;
  std::optional<event::Timer> per_try_timer_;  // in place: no allocation per try
  bool sent_ = false;
  bool paused_ = false;  // we paused the response
  bool discarding_ = false;
};

}  // namespace sluice::filters::router
