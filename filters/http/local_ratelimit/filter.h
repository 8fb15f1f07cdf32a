#pragma once
// The HTTP local rate-limit filter's runtime half (its YAML and spec: config.h).
//
// RuntimeConfig is what a snapshot (listener level) or a route table (per
// route or virtual host) holds: the bucket(s) and counters made from a Spec
// when it is built, shared by every worker.
//
// The filter, one per stream on the worker owning it, is in both chains: on
// the request it takes a token from the bucket of the most specific config
// and answers 429 when there is none; on the response it adds the
// x-ratelimit-* headers (to its own 429 always, to other responses when
// response_headers is set). Local replies run through the encoder chain, so
// the 429 passes through encodeHeaders here. It holds a reference to the
// listener-level config, which outlives the stream (the stream keeps its
// snapshot), and allocates nothing per request beyond the filter object
// itself, which comes from a per-thread free list.

#include <memory>
#include <string>

#include "filters/http/local_ratelimit/config.h"
#include "proxy/http/filter.h"
#include "proxy/ratelimit/local_limiter.h"
#include "proxy/stats/named_counters.h"

namespace sluice::filters::local_ratelimit {

struct RuntimeConfig final : sluice::http::HttpFilterConfig {
  // Buckets start full, their epochs counted from `start`.
  RuntimeConfig(const Spec& spec, event::MonoTime start);

  const Spec spec;
  sluice::ratelimit::LocalLimiter limiter;  // shared mutable state: atomics only

  // Resolved once at build; shared by every config with the same stat_prefix.
  // Null when the limiter is disabled (it never counts then); key_table_full
  // is null unless per_key is set.
  std::shared_ptr<stats::NamedCounter> ok;
  std::shared_ptr<stats::NamedCounter> limited;
  std::shared_ptr<stats::NamedCounter> shadow_limited;
  std::shared_ptr<stats::NamedCounter> key_table_full;
  std::string limit_value;  // x-ratelimit-limit, preformatted
};

class LocalRateLimitFilter final : public sluice::http::PassThroughDecoderFilter,
                                   public sluice::http::PassThroughEncoderFilter {
 public:
  explicit LocalRateLimitFilter(const RuntimeConfig& listener_config) : listener_config_(listener_config) {}

  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  sluice::http::FilterHeadersStatus encodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;

 private:
  uint64_t keyHash(const RuntimeConfig& cfg, const sluice::http::HeaderMap& headers);

  const RuntimeConfig& listener_config_;
  const RuntimeConfig* decided_by_ = nullptr;  // the config whose bucket answered
  sluice::ratelimit::TakeResult result_;
  bool limited_ = false;  // answered 429 (enforced, not shadow)
};

// Builds runtime configs from Specs (listener level and per route; buckets
// counted from the build), and the filters.
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::local_ratelimit
