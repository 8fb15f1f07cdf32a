#pragma once
// A route's `retry_policy` (or its virtual host's, the default for its
// routes) as plain data. The router's runtime policy is built from it
// (proxy/http/route_config.h), with its retriable_headers compiled.
//
//   retry_policy:
//     retry_on: [5xx, reset]          # or Envoy's "5xx,reset"
//     num_retries: 2
//     per_try_timeout: 250ms
//     retry_back_off: {base_interval: 25ms, max_interval: 250ms}
//     retriable_status_codes: [409]
//     retriable_headers: [{name: x-retry, exact: "1"}]
//     max_request_body_bytes: 65536
//     retry_non_idempotent: false

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/matchers.h"
#include "config/model.h"

namespace sluice::config {

class MapReader;

// Which failures a retry policy retries (`retry_on`). A failure that
// happened before the request reached the upstream (connect failure) is
// safe to retry for any method, as is a gRPC status the policy names (gRPC
// calls are all POST); the others only for idempotent ones unless
// the policy opts in.
enum RetryOn : uint32_t {
  kRetryOn5xx = 1 << 0,                   // any 5xx, a reset, connect failure, per-try timeout
  kRetryOnGatewayError = 1 << 1,          // 502/503/504, connect failure, per-try timeout
  kRetryOnReset = 1 << 2,                 // no response: reset, disconnect, connect failure, per-try timeout
  kRetryOnConnectFailure = 1 << 3,        // the connection could not be made
  kRetryOnRefusedStream = 1 << 4,         // the upstream refused the stream unprocessed (HTTP/2)
  kRetryOnRetriable4xx = 1 << 5,          // 409
  kRetryOnRetriableStatusCodes = 1 << 6,  // the listed retriable_status_codes
  kRetryOnRetriableHeaders = 1 << 7,      // a response header matching retriable_headers
  // gRPC: the grpc-status of a trailers-only response (headers with END_STREAM).
  kRetryOnGrpcCancelled = 1 << 8,          // 1 CANCELLED
  kRetryOnGrpcDeadlineExceeded = 1 << 9,   // 4 DEADLINE_EXCEEDED
  kRetryOnGrpcResourceExhausted = 1 << 10,  // 8 RESOURCE_EXHAUSTED
  kRetryOnGrpcInternal = 1 << 11,          // 13 INTERNAL
  kRetryOnGrpcUnavailable = 1 << 12,       // 14 UNAVAILABLE
};
// "5xx" -> kRetryOn5xx, ...; 0 when unknown.
uint32_t retryOnFlag(std::string_view name);
std::vector<std::string> retryOnNames(uint32_t flags);

struct RetryPolicy {
  uint32_t retry_on = 0;
  uint32_t num_retries = 1;
  // Each attempt's own timeout (0: none); the route timeout still bounds the
  // whole request, backoff included.
  Duration per_try_timeout{0};
  // Full-jitter exponential backoff between attempts (util/backoff.h).
  Duration base_interval{std::chrono::milliseconds(25)};
  Duration max_interval{std::chrono::milliseconds(250)};  // default 10 x base
  std::vector<uint32_t> retriable_status_codes;
  std::vector<HeaderMatcher> retriable_headers;
  // Request bodies are kept for replay up to this size; a longer one is not retried.
  uint32_t max_request_body_bytes = 64 * 1024;
  // Retry POST/PATCH even after the upstream may have received them.
  bool retry_non_idempotent = false;
};

// `retry_policy:` of the parent mapping; nullopt when absent or not a mapping.
std::optional<RetryPolicy> readRetryPolicy(MapReader& parent);
nlohmann::json retryPolicyJson(const RetryPolicy& p);

}  // namespace sluice::config
