#include "filters/http/router/retry_state.h"

#include <algorithm>

#include "proxy/http/grpc.h"
#include "proxy/http/retry_after.h"
#include "proxy/util/backoff.h"

namespace sluice::filters::router {

using namespace sluice::http;

namespace {
constexpr uint32_t kGrpcRetryOns = kRetryOnGrpcCancelled | kRetryOnGrpcDeadlineExceeded |
                                   kRetryOnGrpcResourceExhausted | kRetryOnGrpcInternal | kRetryOnGrpcUnavailable;
}  // namespace

std::optional<AttemptFailure> attemptFailureOf(upstream::StreamResetReason reason) {
  using upstream::StreamResetReason;
  switch (reason) {
    case StreamResetReason::ConnectFailure:
    case StreamResetReason::ConnectTimeout: return AttemptFailure::ConnectFailure;
    case StreamResetReason::RefusedStream: return AttemptFailure::RefusedStream;
    case StreamResetReason::ProtocolError: return AttemptFailure::ProtocolError;
    case StreamResetReason::LocalReset:
    case StreamResetReason::RemoteReset:
    case StreamResetReason::ConnectionTermination:
    case StreamResetReason::ConnectionDrained: return AttemptFailure::Reset;
    case StreamResetReason::Overflow: return std::nullopt;
  }
  return std::nullopt;
}

RetryState::RetryState(const RetryPolicy& policy, std::string_view method)
    : policy_(policy), idempotent_(method != "POST" && method != "PATCH" && method != "CONNECT") {}

bool RetryState::retriable(AttemptFailure failure, const HeaderMap* response, bool request_sent) const {
  const uint32_t on = policy_.retry_on;
  // A request the upstream never received is safe to send again, whatever its method.
  const bool unseen = failure == AttemptFailure::ConnectFailure || failure == AttemptFailure::RefusedStream ||
                      !request_sent;
  // gRPC calls are all POST; a status the policy names (UNAVAILABLE, ...) is
  // the server's own word that another try may succeed, as gRPC's retry
  // design has it, so it is retried whatever the method.
  const bool grpc_status = failure == AttemptFailure::Response && response != nullptr && (on & kGrpcRetryOns) &&
                           sluice::http::grpc::statusOf(*response).has_value();
  if (!unseen && !grpc_status && !idempotent_ && !policy_.retry_non_idempotent) return false;
  switch (failure) {
    case AttemptFailure::ConnectFailure:
      return on & (kRetryOn5xx | kRetryOnGatewayError | kRetryOnReset | kRetryOnConnectFailure);
    case AttemptFailure::RefusedStream:
      return on & (kRetryOn5xx | kRetryOnReset | kRetryOnRefusedStream);
    case AttemptFailure::Reset:
    case AttemptFailure::ProtocolError:
      return on & (kRetryOn5xx | kRetryOnReset);
    case AttemptFailure::PerTryTimeout:
      return on & (kRetryOn5xx | kRetryOnGatewayError | kRetryOnReset);
    case AttemptFailure::Response:
      return response != nullptr && retriableResponse(*response);
  }
  return false;
}

bool RetryState::retriableResponse(const HeaderMap& response) const {
  const uint32_t on = policy_.retry_on;
  const int status = response.status();
  if ((on & kRetryOn5xx) && status >= 500) return true;
  if ((on & kRetryOnGatewayError) && (status == 502 || status == 503 || status == 504)) return true;
  if ((on & kRetryOnRetriable4xx) && status == 409) return true;
  if ((on & kRetryOnRetriableStatusCodes) &&
      std::find(policy_.retriable_status_codes.begin(), policy_.retriable_status_codes.end(),
                static_cast<uint32_t>(status)) != policy_.retriable_status_codes.end())
    return true;
  if (on & kRetryOnRetriableHeaders) {
    for (const auto& m : policy_.retriable_headers)
      if (m.matcher.matches(response.get(m.name))) return true;
  }
  if (on & kGrpcRetryOns) {
    if (const auto code = sluice::http::grpc::statusOf(response)) {
      switch (*code) {
        case sluice::http::grpc::kCancelled: return on & kRetryOnGrpcCancelled;
        case sluice::http::grpc::kDeadlineExceeded: return on & kRetryOnGrpcDeadlineExceeded;
        case sluice::http::grpc::kResourceExhausted: return on & kRetryOnGrpcResourceExhausted;
        case sluice::http::grpc::kInternal: return on & kRetryOnGrpcInternal;
        case sluice::http::grpc::kUnavailable: return on & kRetryOnGrpcUnavailable;
        default: return false;
      }
    }
  }
  return false;
}

std::chrono::milliseconds RetryState::nextBackoff(const HeaderMap* response, std::chrono::system_clock::time_point now,
                                                  util::RandomSource& random) {
  ++retries_;
  if (response != nullptr && (response->status() == 429 || response->status() == 503)) {
    if (auto v = response->get("retry-after")) {
      if (auto wait = parseRetryAfter(*v, now); wait && *wait <= policy_.max_interval) return *wait;
    }
  }
  return util::fullJitterBackoff(retries_, policy_.base_interval, policy_.max_interval, random);
}

}  // namespace sluice::filters::router
