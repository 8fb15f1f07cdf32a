#pragma once
// The router: the last HTTP filter. It answers routes with redirect or
// direct_response actions itself; for a cluster action it picks the cluster
// (weighted split), a host from that cluster's load balancer and a stream
// from that host's pool (one UpstreamAttempt per try), forwards the request,
// and streams the response back.
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
//   no route 404 (NR), unknown cluster 503 (NC), no host 503 (UH; also an
//   original_dst destination that would loop back to the listener),
//   connect failure/timeout 503 (UF), pool or circuit-breaker overflow 503 (UO),
//   route timeout 504 (UT), per-try timeout 504 (UPT), upstream reset or
//   refused stream before the response 502 (UC), malformed response 502
//   (UPE); the pool's StreamResetReason decides which. URX is added when a
//   retriable failure was returned because no retry was left or allowed.
//   After response headers went downstream a failure can only reset the
//   downstream stream.

#include <boost/container/small_vector.hpp>

#include <memory>
#include <optional>

#include "filters/http/router/retry_state.h"
#include "filters/http/router/upstream_attempt.h"
#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"
#include "proxy/upstream/cluster_manager.h"

namespace sluice::filters::router {

class RouterFilter final : public sluice::http::StreamDecoderFilter,
                           public sluice::http::DownstreamWatermarkCallbacks {
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

 private:
  // What the current attempt reports (upstream_attempt.h).
  friend class UpstreamAttempt;
  // The stream is ready: send the request (headers, the body so far, trailers).
  void onUpstreamReady();
  // No stream (pool failure) or the stream ended before the response did.
  void onUpstreamFailure(upstream::StreamResetReason reason, std::string_view detail);
  void onPerTryTimeout();
  void onUpstreamAboveWriteBufferHighWatermark();
  void onUpstreamBelowWriteBufferLowWatermark();
  void onResponseHeaders(sluice::http::HeaderMap& headers, bool end_stream);
  void onResponseData(net::Buffer& data, bool end_stream);
  void onResponseTrailers(sluice::http::HeaderMap& trailers);

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

  // Picks a host and starts an attempt on it; false when the request was
  // answered instead (no cluster, no host).
  bool startAttempt();
  // An original_dst cluster's host: x-envoy-original-dst-host where the
  // cluster takes it (a bad value is counted and ignored), else the
  // connection's original destination; a destination that would loop back
  // to the listener is refused (503, upstream_cx_original_dst_loop).
  bool startOriginalDstAttempt(upstream::Cluster& cluster);
  void startOn(upstream::Cluster& cluster, const upstream::Cluster::Pick& pick, const upstream::Host& host,
               upstream::HttpConnPool& pool);
  // An attempt failed: retry it (after a backoff) or end the request with `f`.
  void attemptFailed(AttemptFailure kind, Failure f);
  // Takes a retry slot and arms the backoff; false when the policy, the
  // retries left, the body or the budget say no (the reason is counted).
  bool scheduleRetry(AttemptFailure kind, const sluice::http::HeaderMap* response, bool request_sent);
  void armBackoff();
  void onBackoffDone();
  void onTimeout();
  // Ends the current attempt (UpstreamAttempt::end) and resumes the
  // downstream if this attempt's write buffer paused it. `success`: the
  // response completed, so the connection may go back to the pool.
  void endAttempt(bool success);
  // Ends the whole upstream part of the request (attempt, request slot, timers).
  void finishUpstream(bool success);
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
  bool request_end_ = false;
  net::Buffer pending_body_;  // request bytes not yet sent on the current attempt
  bool response_started_ = false;
  bool response_complete_ = false;  // the last attempt's response ended cleanly
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
  // A retry-budget slot taken when a retry is decided, handed to the
  // attempt that retry starts (which holds it until it ends).
  upstream::Breaker* next_retry_slot_ = nullptr;
  std::chrono::milliseconds pending_backoff_{0};
  std::optional<event::Timer> backoff_timer_;

  uint32_t attempts_ = 0;  // started so far; the current one's number
  UpstreamAttempt attempt_{*this};  // the current try, reused for each
};

// The router has no config of its own; the connection manager always adds it last.
std::shared_ptr<const sluice::http::HttpFilterConfig> defaultConfig();
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::router
