// Which failures each retry_on value retries, the method rule, the retry
// count, and the wait before a retry (backoff or Retry-After).
#include "filters/http/router/retry_state.h"

#include <gtest/gtest.h>

#include <random>

namespace sluice::filters::router {
namespace {

using sluice::http::HeaderMap;
using sluice::http::RetryPolicy;
using namespace std::chrono_literals;

class Seeded : public util::RandomSource {
 public:
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_{7};
};

RetryPolicy policy(uint32_t on) {
  RetryPolicy p;
  p.retry_on = on;
  p.num_retries = 2;
  return p;
}

HeaderMap response(int status, std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  HeaderMap h;
  h.setStatus(status);
  for (const auto& [n, v] : headers) h.add(n, v);
  return h;
}

bool retriesResponse(const RetryPolicy& p, int status) {
  RetryState s(p, "GET");
  const HeaderMap r = response(status);
  return s.retriable(AttemptFailure::Response, &r, true);
}

TEST(RetryState, FiveXxCoversEveryServerFailure) {
  const RetryPolicy p = policy(sluice::http::kRetryOn5xx);
  RetryState s(p, "GET");
  for (auto f : {AttemptFailure::ConnectFailure, AttemptFailure::RefusedStream, AttemptFailure::Reset,
                 AttemptFailure::ProtocolError, AttemptFailure::PerTryTimeout})
    EXPECT_TRUE(s.retriable(f, nullptr, true)) << static_cast<int>(f);
  EXPECT_TRUE(retriesResponse(p, 500));
  EXPECT_TRUE(retriesResponse(p, 503));
  EXPECT_FALSE(retriesResponse(p, 404));
  EXPECT_FALSE(retriesResponse(p, 200));
}

TEST(RetryState, GatewayErrorIsOnly502To504AndConnectAndTimeouts) {
  const RetryPolicy p = policy(sluice::http::kRetryOnGatewayError);
  RetryState s(p, "GET");
  EXPECT_TRUE(retriesResponse(p, 502));
  EXPECT_TRUE(retriesResponse(p, 503));
  EXPECT_TRUE(retriesResponse(p, 504));
  EXPECT_FALSE(retriesResponse(p, 500));
  EXPECT_TRUE(s.retriable(AttemptFailure::ConnectFailure, nullptr, false));
  EXPECT_TRUE(s.retriable(AttemptFailure::PerTryTimeout, nullptr, true));
  EXPECT_FALSE(s.retriable(AttemptFailure::Reset, nullptr, true));
}

TEST(RetryState, ResetAndConnectFailureAreNarrow) {
  const RetryPolicy reset = policy(sluice::http::kRetryOnReset);
  RetryState r(reset, "GET");
  EXPECT_TRUE(r.retriable(AttemptFailure::Reset, nullptr, true));
  EXPECT_TRUE(r.retriable(AttemptFailure::ConnectFailure, nullptr, false));
  EXPECT_FALSE(retriesResponse(reset, 503));

  const RetryPolicy connect = policy(sluice::http::kRetryOnConnectFailure);
  RetryState c(connect, "GET");
  EXPECT_TRUE(c.retriable(AttemptFailure::ConnectFailure, nullptr, false));
  EXPECT_FALSE(c.retriable(AttemptFailure::Reset, nullptr, true));
  EXPECT_FALSE(c.retriable(AttemptFailure::PerTryTimeout, nullptr, true));
  EXPECT_FALSE(retriesResponse(connect, 503));
}

TEST(RetryState, Retriable4xxStatusCodesAndHeaders) {
  EXPECT_TRUE(retriesResponse(policy(sluice::http::kRetryOnRetriable4xx), 409));
  EXPECT_FALSE(retriesResponse(policy(sluice::http::kRetryOnRetriable4xx), 404));

  RetryPolicy codes = policy(sluice::http::kRetryOnRetriableStatusCodes);
  codes.retriable_status_codes = {429, 418};
  EXPECT_TRUE(retriesResponse(codes, 429));
  EXPECT_TRUE(retriesResponse(codes, 418));
  EXPECT_FALSE(retriesResponse(codes, 503));

  RetryPolicy hdr = policy(sluice::http::kRetryOnRetriableHeaders);
  sluice::http::HeaderMatcher m;
  m.name = "x-retry";
  m.matcher.value = "yes";
  hdr.retriable_headers.push_back(m);
  RetryState s(hdr, "GET");
  const HeaderMap yes = response(200, {{"x-retry", "yes"}});
  const HeaderMap no = response(500, {{"x-retry", "no"}});
  EXPECT_TRUE(s.retriable(AttemptFailure::Response, &yes, true));
  EXPECT_FALSE(s.retriable(AttemptFailure::Response, &no, true));
}

TEST(RetryState, NonIdempotentMethodsOnlyWhenTheUpstreamNeverSawThem) {
  const RetryPolicy p = policy(sluice::http::kRetryOn5xx);
  for (const char* method : {"POST", "PATCH"}) {
    RetryState s(p, method);
    EXPECT_TRUE(s.retriable(AttemptFailure::ConnectFailure, nullptr, false)) << method;
    EXPECT_TRUE(s.retriable(AttemptFailure::RefusedStream, nullptr, true)) << method;
    EXPECT_TRUE(s.retriable(AttemptFailure::PerTryTimeout, nullptr, false)) << method << ": still waiting for a connection";
    EXPECT_FALSE(s.retriable(AttemptFailure::PerTryTimeout, nullptr, true)) << method;
    EXPECT_FALSE(s.retriable(AttemptFailure::Reset, nullptr, true)) << method;
    const HeaderMap r = response(503);
    EXPECT_FALSE(s.retriable(AttemptFailure::Response, &r, true)) << method;
  }
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}) {
    RetryState s(p, method);
    EXPECT_TRUE(s.retriable(AttemptFailure::Reset, nullptr, true)) << method;
  }
  RetryPolicy opt_in = p;
  opt_in.retry_non_idempotent = true;
  RetryState s(opt_in, "POST");
  EXPECT_TRUE(s.retriable(AttemptFailure::Reset, nullptr, true));
}

TEST(RetryState, CountsRetriesAndBacksOffWithinTheGrowingWindow) {
  RetryPolicy p = policy(sluice::http::kRetryOn5xx);
  p.num_retries = 3;
  p.base_interval = 25ms;
  p.max_interval = 250ms;
  RetryState s(p, "GET");
  Seeded random;
  const auto now = std::chrono::system_clock::now();
  EXPECT_TRUE(s.retriesLeft());
  EXPECT_LE(s.nextBackoff(nullptr, now, random), 25ms);
  EXPECT_LE(s.nextBackoff(nullptr, now, random), 75ms);
  EXPECT_TRUE(s.retriesLeft());
  EXPECT_LE(s.nextBackoff(nullptr, now, random), 175ms);
  EXPECT_FALSE(s.retriesLeft());
  EXPECT_EQ(s.retries(), 3u);
}

TEST(RetryState, RetryAfterOn429And503ReplacesTheBackoffWithinMaxInterval) {
  RetryPolicy p = policy(sluice::http::kRetryOn5xx);
  p.num_retries = 10;
  p.base_interval = 10ms;
  p.max_interval = 2s;
  Seeded random;
  const auto now = std::chrono::system_clock::now();
  RetryState s(p, "GET");
  const HeaderMap r503 = response(503, {{"retry-after", "1"}});
  EXPECT_EQ(s.nextBackoff(&r503, now, random), 1000ms);
  const HeaderMap r429 = response(429, {{"retry-after", "2"}});
  EXPECT_EQ(s.nextBackoff(&r429, now, random), 2000ms);
  // Beyond max_interval, malformed, or on another status: the computed
  // backoff, which for a first retry is at most base_interval.
  for (const HeaderMap& r : {response(503, {{"retry-after", "3"}}), response(503, {{"retry-after", "soon"}}),
                             response(500, {{"retry-after", "1"}})}) {
    RetryState first(p, "GET");
    EXPECT_LE(first.nextBackoff(&r, now, random), 10ms);
  }
}

// The pool's typed reset reason is what the policy decides on: each reason
// maps to one AttemptFailure, and a refused stream (HTTP/2's REFUSED_STREAM)
// is retried under refused-stream but not under connect-failure or
// gateway-error, while a connect failure is the other way round.
TEST(RetryState, ResetReasonsReachTheRetryDecision) {
  using upstream::StreamResetReason;
  EXPECT_EQ(attemptFailureOf(StreamResetReason::ConnectFailure), AttemptFailure::ConnectFailure);
  EXPECT_EQ(attemptFailureOf(StreamResetReason::ConnectTimeout), AttemptFailure::ConnectFailure);
  EXPECT_EQ(attemptFailureOf(StreamResetReason::RefusedStream), AttemptFailure::RefusedStream);
  EXPECT_EQ(attemptFailureOf(StreamResetReason::ProtocolError), AttemptFailure::ProtocolError);
  for (auto r : {StreamResetReason::LocalReset, StreamResetReason::RemoteReset,
                 StreamResetReason::ConnectionTermination})
    EXPECT_EQ(attemptFailureOf(r), AttemptFailure::Reset) << upstream::resetReasonName(r);
  EXPECT_FALSE(attemptFailureOf(StreamResetReason::Overflow));

  auto retries = [](uint32_t on, StreamResetReason reason, std::string_view method = "GET") {
    const RetryPolicy p = policy(on);
    return RetryState(p, method).retriable(*attemptFailureOf(reason), nullptr, true);
  };
  EXPECT_TRUE(retries(sluice::http::kRetryOnRefusedStream, StreamResetReason::RefusedStream));
  EXPECT_TRUE(retries(sluice::http::kRetryOnRefusedStream, StreamResetReason::RefusedStream, "POST"))
      << "the upstream did not process it";
  EXPECT_FALSE(retries(sluice::http::kRetryOnConnectFailure, StreamResetReason::RefusedStream));
  EXPECT_FALSE(retries(sluice::http::kRetryOnGatewayError, StreamResetReason::RefusedStream));
  EXPECT_FALSE(retries(sluice::http::kRetryOnRetriable4xx, StreamResetReason::RefusedStream));
  EXPECT_TRUE(retries(sluice::http::kRetryOnConnectFailure, StreamResetReason::ConnectFailure));
  EXPECT_TRUE(retries(sluice::http::kRetryOnConnectFailure, StreamResetReason::ConnectTimeout));
  EXPECT_FALSE(retries(sluice::http::kRetryOnRefusedStream, StreamResetReason::ConnectFailure));
  EXPECT_FALSE(retries(sluice::http::kRetryOnRefusedStream, StreamResetReason::ConnectionTermination));
  EXPECT_FALSE(retries(sluice::http::kRetryOnRefusedStream, StreamResetReason::RemoteReset));
  EXPECT_TRUE(retries(sluice::http::kRetryOnReset, StreamResetReason::RemoteReset));
}

// gRPC outcomes travel in grpc-status of a trailers-only response (HTTP 200).
TEST(RetryStateGrpc, RetriesTheNamedGrpcStatusesOnly) {
  const RetryPolicy some = policy(sluice::http::kRetryOnGrpcUnavailable | sluice::http::kRetryOnGrpcCancelled);
  RetryState s(some, "POST");
  auto grpc = [](const char* code) { return response(200, {{"grpc-status", code}}); };
  const HeaderMap unavailable = grpc("14"), cancelled = grpc("1"), internal = grpc("13"), ok = grpc("0");
  EXPECT_TRUE(s.retriable(AttemptFailure::Response, &unavailable, true));
  EXPECT_TRUE(s.retriable(AttemptFailure::Response, &cancelled, true));
  EXPECT_FALSE(s.retriable(AttemptFailure::Response, &internal, true));
  EXPECT_FALSE(s.retriable(AttemptFailure::Response, &ok, true));
  const HeaderMap plain = response(200);
  EXPECT_FALSE(s.retriable(AttemptFailure::Response, &plain, true));
  const RetryPolicy others = policy(sluice::http::kRetryOnGrpcDeadlineExceeded | sluice::http::kRetryOnGrpcInternal |
                                    sluice::http::kRetryOnGrpcResourceExhausted);
  RetryState all(others, "POST");
  for (const char* code : {"4", "13", "8"}) {
    const HeaderMap r = grpc(code);
    EXPECT_TRUE(all.retriable(AttemptFailure::Response, &r, true)) << code;
  }
}

}  // namespace
}  // namespace sluice::filters::router
