#pragma once
// RetryState: the retry bookkeeping of one routed request. It answers, for
// each failed attempt, whether the route's retry policy retries that kind of
// failure for this request, how many retries are left, and how long to wait
// before the next one. The router does the I/O and asks the cluster's retry
// budget (cluster_shared.h) for a slot; this class holds no slots.
//
// Loop thread only; one per request, made when the request is routed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/http/header_map.h"
#include "proxy/http/route_config.h"
#include "proxy/upstream/stream_reset_reason.h"
#include "proxy/util/random.h"

namespace sluice::filters::router {

// How an attempt failed.
enum class AttemptFailure : uint8_t {
  ConnectFailure,  // no connection to the host (refused, timed out): the upstream never saw the request
  RefusedStream,   // the upstream refused the stream before processing it (HTTP/2)
  Reset,           // the connection closed or reset before a complete response
  ProtocolError,   // the response was malformed
  PerTryTimeout,   // per_try_timeout expired
  Response,        // a response arrived; its status and headers decide
};

// How the retry policy sees a pool failure or stream reset: connect failures
// and timeouts as ConnectFailure, a refused stream as RefusedStream (so only
// refused-stream, reset and 5xx retry it), a malformed response as
// ProtocolError, any other reset as Reset. nullopt for Overflow: never
// retried, since another try would only add to a saturated cluster.
std::optional<AttemptFailure> attemptFailureOf(upstream::StreamResetReason reason);

class RetryState {
 public:
  // `method` decides idempotency: POST and PATCH (and CONNECT) are not.
  RetryState(const sluice::http::RetryPolicy& policy, std::string_view method);

  // Whether the policy retries this failure of this request. `response` is
  // the response headers for AttemptFailure::Response. `request_sent`: any
  // byte of the request left for the upstream on this attempt (a
  // non-idempotent request is retried only when it provably did not, unless
  // the policy opts in).
  bool retriable(AttemptFailure failure, const sluice::http::HeaderMap* response, bool request_sent) const;
  bool retriesLeft() const { return retries_ < policy_.num_retries; }

  // Counts one retry (1-based: the first retry is 1) and returns the wait
  // before it: the response's Retry-After on a 429 or 503 when present and
  // not beyond max_interval, else the full-jitter backoff for this retry.
  std::chrono::milliseconds nextBackoff(const sluice::http::HeaderMap* response,
                                        std::chrono::system_clock::time_point now, util::RandomSource& random);
  uint32_t retries() const { return retries_; }
  const sluice::http::RetryPolicy& policy() const { return policy_; }

 private:
  bool retriableResponse(const sluice::http::HeaderMap& response) const;

  const sluice::http::RetryPolicy& policy_;
  bool idempotent_;
  uint32_t retries_ = 0;
};

}  // namespace sluice::filters::router
