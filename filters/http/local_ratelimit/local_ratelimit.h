#pragma once
// The per-stream local rate-limit filter (config and YAML: config.h). In both
// chains: on the request it takes a token from the bucket of the most
// specific config and answers 429 when there is none; on the response it
// adds the x-ratelimit-* headers (to its own 429 always, to other responses
// when response_headers is set). Local replies run through the encoder chain,
// so the 429 passes through encodeHeaders here.
//
// One per stream, on the worker owning the stream; holds a reference to the
// listener-level config, which outlives the stream (the stream keeps its
// snapshot). Allocates nothing per request beyond the filter object itself,
// which comes from a per-thread free list.

#include "filters/http/local_ratelimit/config.h"
#include "proxy/http/filter.h"

namespace sluice::filters::local_ratelimit {

class LocalRateLimitFilter final : public sluice::http::PassThroughDecoderFilter,
                                   public sluice::http::PassThroughEncoderFilter {
 public:
  explicit LocalRateLimitFilter(const LocalRateLimitConfig& listener_config) : listener_config_(listener_config) {}

  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  sluice::http::FilterHeadersStatus encodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;

 private:
  uint64_t keyHash(const LocalRateLimitConfig& cfg, const sluice::http::HeaderMap& headers);

  const LocalRateLimitConfig& listener_config_;
  const LocalRateLimitConfig* decided_by_ = nullptr;  // the config whose bucket answered
  sluice::ratelimit::TakeResult result_;
  bool limited_ = false;  // answered 429 (enforced, not shadow)
};

}  // namespace sluice::filters::local_ratelimit
