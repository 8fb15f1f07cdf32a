#pragma once
// The global rate-limit filter's runtime half (its YAML, behaviour and spec:
// config.h).
//
// RuntimeConfig is what a snapshot (listener level) or a route table (per
// route or virtual host) holds: what a build derives from a Spec once, so a
// request formats nothing but its key, and the counters. The Redis
// connections are not in it: they are per worker (redis::threadClient).

#include <memory>
#include <string>
#include <vector>

#include "filters/http/ratelimit/config.h"
#include "proxy/http/filter.h"
#include "proxy/redis/redis_client.h"

namespace sluice::stats {
class NamedCounter;
}

namespace sluice::filters::global_ratelimit {

struct RuntimeConfig final : sluice::http::HttpFilterConfig {
  explicit RuntimeConfig(const Spec& spec);

  const Spec spec;
  // "|client_ip=", "|x-user=", ...: each descriptor's part of the key before its value.
  std::vector<std::string> key_prefixes;
  std::string interval_arg;   // GCRA emission interval, microseconds (ARGV[1])
  std::string tolerance_arg;  // burst tolerance, microseconds (ARGV[2])
  std::string limit_value;    // x-ratelimit-limit
  // Null for a per-route {disabled: true}, which never counts.
  std::shared_ptr<stats::NamedCounter> ok;
  std::shared_ptr<stats::NamedCounter> over_limit;
  std::shared_ptr<stats::NamedCounter> error;
  std::shared_ptr<stats::NamedCounter> failure_mode_allowed;
};

// The GCRA script, hashed once.
const redis::LuaScript& gcraScript();

// One per stream, in both chains: decodes to decide, encodes to add the
// x-ratelimit headers to its own 429.
class RateLimitFilter final : public sluice::http::PassThroughDecoderFilter,
                              public sluice::http::PassThroughEncoderFilter,
                              private redis::RedisRequest {
 public:
  explicit RateLimitFilter(const RuntimeConfig& config) : config_(config) {}
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  sluice::http::FilterHeadersStatus encodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  void onDestroy() override;

 private:
  void onReply(const redis::RedisResult& result) override;
  // Redis failed: true when the request goes on (failure_mode allow).
  bool failOpen();

  const RuntimeConfig& config_;
  const RuntimeConfig* active_ = nullptr;  // the config deciding this request (may be per-route)
  bool over_limit_ = false;
  int64_t retry_after_ms_ = 0;
  int64_t reset_ms_ = 0;
};

// Builds runtime configs from Specs (listener level and per route), and the filters.
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::global_ratelimit
