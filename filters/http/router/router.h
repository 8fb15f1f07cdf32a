#pragma once
// The router: the last HTTP filter. It answers routes with redirect or
// direct_response actions itself; for a cluster action it picks the cluster
// (weighted split), a host from that cluster's load balancer and a pooled
// connection to it, forwards the request, and streams the response back.
//
// Retries (a route's retry_policy, else its virtual host's): an attempt that
// fails in a way the policy retries, before any response byte went
// downstream, is repeated on another host after a full-jitter backoff, while
// retries are left and the cluster's retry budget has a slot. The request
// body is kept for replay up to the policy's limit; each attempt carries
// x-sluice-attempt. The route timeout bounds all attempts and waits together;
// per_try_timeout bounds each attempt.
//
// Failures, each with a response flag for the access log:
//   no route 404 (NR), unknown cluster 503 (NC), no host 503 (UH),
//   connect failure/timeout 503 (UF), pool or circuit-breaker overflow 503 (UO),
//   route timeout 504 (UT), per-try timeout 504 (UPT), upstream reset before
//   the response 502 (UC), malformed response 502 (UPE); URX is added when a
//   retriable failure was returned because no retry was left or allowed.
//   After response headers went downstream a failure can only reset the
//   downstream stream.

#include <boost/container/small_vector.hpp>

#include <memory>
#include <optional>

#include "filters/http/router/retry_state.h"
#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/http1_conn_pool.h"

namespace sluice::filters::router {

class RouterFilter final : public sluice::http::StreamDecoderFilter,
                           public sluice::http::DownstreamWatermarkCallbacks,
                           public upstream::PoolCallbacks,
                           public upstream::UpstreamRequestCallbacks {
 public:
  RouterFilter() = default;
  ~RouterFilter() override;

  void setDecoderFilterCallbacks(sluice::http::StreamDecoderFilterCallbacks& cb) override { callbacks_ = &cb; }
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  sluice::http::FilterDataStatus decodeData(net::Buffer& data, bool end_stream) override;
  sluice::http::FilterTrailersStatus decodeTrailers(sluice::http::HeaderMap& trailers) override;
  void onDestroy() override;

  // Downstream write buffer (response backpressure).
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // Connection pool.
  void onPoolReady(upstream::PooledConnection& conn) override;
  void onPoolFailure(upstream::PoolFailure reason) override;

  // The upstream connection.
  void onUpstreamReset(bool protocol_error, std::string_view detail) override;
  void onUpstreamAboveWriteBufferHighWatermark() override;
  void onUpstreamBelowWriteBufferLowWatermark() override;

  // The response from the upstream codec.
  void onResponseHeaders(sluice::http::HeaderMap& headers, bool end_stream);
  void onResponseData(net::Buffer& data, bool end_stream);
  void onResponseTrailers(sluice::http::HeaderMap& trailers);

 private:
  // Receives the upstream response (a separate object: the filter's own
  // decode* names are taken by the request path).
  struct Response final : sluice::http::MessageDecoder {
    explicit Response(RouterFilter& r) : router(r) {}
    void decodeHeaders(sluice::http::HeaderMap& h, bool end_stream) override { router.onResponseHeaders(h, end_stream); }
    void decodeData(net::Buffer& d, bool end_stream) override { router.onResponseData(d, end_stream); }
    void decodeTrailers(sluice::http::HeaderMap& t) override { router.onResponseTrailers(t); }
    RouterFilter& router;
  };
  // What the load balancer should know: the hash key, and the hosts this
  // request already tried (a retry goes elsewhere when it can).
  struct LbContext final : upstream::LbContext {
    bool shouldSkip(const upstream::Host& h) const override;
    std::optional<uint64_t> hashKey() const override { return key; }
    std::optional<uint64_t> key;
    boost::container::small_vector<const upstream::HostShared*, 4> tried;
  };
  // How a failed attempt ends the request when it is not retried.
  struct Failure {
    int status;
    sluice::http::ResponseFlag flag;
    std::string_view details;
  };

  void sendDirectResponse(const sluice::http::DirectResponseAction& action);
  void sendRedirect(const sluice::http::RedirectAction& action, const sluice::http::HeaderMap& request);
  void applyRequestMutations(sluice::http::HeaderMap& h);
  void applyResponseMutations(sluice::http::HeaderMap& h);

  // Picks a host and asks its pool for a connection; false when the request
  // was answered instead (no cluster, no host).
  bool startAttempt();
  // An attempt failed: retry it (after a backoff) or end the request with `f`.
  void attemptFailed(AttemptFailure kind, Failure f);
  // Takes a retry slot and arms the backoff; false when the policy, the
  // retries left, the body or the budget say no (the reason is counted).
  bool scheduleRetry(AttemptFailure kind, const sluice::http::HeaderMap* response, bool request_sent);
  void armBackoff();
  void onBackoffDone();
  void onTimeout();
  void onPerTryTimeout();
  // Ends the current attempt's upstream part (pool handle, connection, host
  // stats, retry slot). `success`: the response completed, so the
  // connection may go back to the pool.
  void endAttempt(bool success);
  // Ends the whole upstream part of the request (attempt, request slot, timers).
  void finishUpstream(bool success);
  // Tells passive health checking how the attempt to the picked host went (once).
  void reportOutcome(upstream::HostOutcome outcome);
  void fail(int status, sluice::http::ResponseFlag flag, std::string_view details);
  bool retriesPossible() const { return retry_.has_value() && (replay_ok_ || !ever_sent_); }

  sluice::http::StreamDecoderFilterCallbacks* callbacks_ = nullptr;
  const sluice::http::Route* route_ = nullptr;
  std::string cluster_name_;
  stats::ClusterStats* cluster_stats_ = nullptr;  // lives until exit
  upstream::RoutingPriority priority_ = upstream::RoutingPriority::Normal;
  upstream::Breaker* request_slot_ = nullptr;  // our max_requests slot, held until the upstream part ends
  sluice::http::HeaderMap* request_headers_ = nullptr;
  sluice::http::HeaderMap* request_trailers_ = nullptr;
  sluice::http::HeaderMap local_headers_;  // redirect / direct response
  Response response_{*this};
  bool request_end_ = false;
  net::Buffer pending_body_;  // request bytes not yet sent on the current attempt
  bool response_started_ = false;
  bool upstream_done_ = false;
  bool downstream_paused_ = false;  // we paused downstream reads
  bool watermarks_registered_ = false;
  event::MonoTime start_{};
  std::optional<event::Timer> timeout_timer_;  // in place: no allocation per request
  LbContext lb_ctx_;

  // Retries (only with a retry policy).
  std::optional<RetryState> retry_;
  net::Buffer replay_body_;  // every request body byte so far, while within the policy's limit
  bool replay_ok_ = true;    // replay_body_ holds the whole body so far
  bool ever_sent_ = false;   // some attempt sent request bytes upstream
  // Retry-budget slots: one taken when a retry is decided (next), then held
  // by that attempt until it ends (attempt).
  upstream::Breaker* next_retry_slot_ = nullptr;
  upstream::Breaker* attempt_retry_slot_ = nullptr;
  std::chrono::milliseconds pending_backoff_{0};
  std::optional<event::Timer> backoff_timer_;
  std::optional<event::Timer> per_try_timer_;

  // The current attempt.
  uint32_t attempt_ = 0;  // 1-based once started
  upstream::Cluster::Pick pick_{};
  std::shared_ptr<upstream::Cluster> picked_cluster_;  // kept (across config swaps) until the outcome is reported
  bool outcome_reported_ = false;
  stats::HostStats* host_stats_ = nullptr;  // lives until exit
  upstream::Http1ConnPool* pool_ = nullptr;
  upstream::Http1ConnPool::Pending* pool_handle_ = nullptr;
  upstream::PooledConnection* conn_ = nullptr;
  sluice::http::MessageEncoder* encoder_ = nullptr;
  bool attempt_sent_ = false;       // request bytes left on this attempt
  bool upstream_paused_ = false;    // we paused upstream reads
  bool response_complete_ = false;  // the upstream's response ended cleanly
  bool discarding_ = false;         // reading out a retriable response's body before retrying
};

// The router has no config of its own; the connection manager always adds it last.
const sluice::http::HttpFilterConfig& defaultConfig();
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::router
