#pragma once
// ratelimit (HTTP): one limit shared by every Sluice process through Redis.
// Listener level, in http_filters:
//
//   - ratelimit:
//       stat_prefix: api                              # metric label (required)
//       redis: {address: 127.0.0.1:6379, timeout: 50ms}
//       domain: edge                                  # key namespace in Redis (required)
//       limit: {requests_per_unit: 100, unit: second, burst: 0}   # unit: second | minute | hour
//       descriptors: [{key: client_ip}, {key: header, header: x-user}, {key: path}, {key: generic, value: all}]
//       failure_mode: allow                           # or deny: when Redis fails or times out
//
// Each request builds one Redis key, "DOMAIN|NAME=VALUE|..." from its
// descriptors in order (client_ip: the downstream peer's IP; header: the
// first value of that request header; path: the path without the query;
// generic: the fixed value), and runs the GCRA script (gcra_script.h) on it
// with hiredis's async API on the worker's loop (redis::threadClient: one
// connection per worker and Redis address). The request waits for the answer:
// allowed -> it goes on; over the limit -> 429 with retry-after,
// x-ratelimit-limit, -remaining (0) and -reset, response flag RL, details
// "ratelimit_over_limit"; Redis error, timeout or no connection ->
// failure_mode: allow lets it through, deny answers 503 (details
// "ratelimit_redis_error"; the limiter is unavailable, not the client over
// its limit, and 503 tells clients to come back later). A request lacking a
// header its descriptors need is not limited (as Envoy).
//
// A route or virtual host overrides the whole config with
// `per_filter_config: {ratelimit: {...}}` (same schema), or turns the limit
// off there with `per_filter_config: {ratelimit: {disabled: true}}`.
//
// Metrics: sluice_ratelimit_requests_total{stat_prefix, result="ok" |
// "over_limit" | "error" | "failure_mode_allowed"} (failure_mode_allowed
// counts the errors that were let through); the connections:
// sluice_redis_connects_total, _connect_failures_total, sluice_redis_connected.

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/http/filter.h"
#include "ip/address.h"
#include "proxy/redis/redis_client.h"
#include "filters/legacy.h"

namespace sluice::stats {
class NamedCounter;
}

namespace sluice::filters::global_ratelimit {

inline constexpr std::string_view kFilterName = "ratelimit";

struct Descriptor {
  enum class Kind { ClientIp, Header, Path, Generic };
  Kind kind = Kind::Generic;
  std::string header;  // Header: lowercase name
  std::string value;   // Generic: the fixed value
  std::string prefix;  // "|client_ip=", "|x-user=", ...: this part of the key before its value
};

struct RateLimitConfig final : sluice::http::HttpFilterConfig {
  enum class Unit { Second, Minute, Hour };
  enum class FailureMode { Allow, Deny };

  bool disabled = false;  // per_filter_config {disabled: true}: no limit here
  std::string stat_prefix;
  ip::Address redis_address;
  config::Duration redis_timeout{50};
  std::string domain;
  uint32_t requests_per_unit = 0;
  Unit unit = Unit::Second;
  uint32_t burst = 0;
  std::vector<Descriptor> descriptors;
  FailureMode failure_mode = FailureMode::Allow;

  // Derived at parse time, so a request formats nothing but its key.
  std::string interval_arg;   // GCRA emission interval, microseconds (ARGV[1])
  std::string tolerance_arg;  // burst tolerance, microseconds (ARGV[2])
  std::string limit_value;    // x-ratelimit-limit
  std::shared_ptr<stats::NamedCounter> ok;
  std::shared_ptr<stats::NamedCounter> over_limit;
  std::shared_ptr<stats::NamedCounter> error;
  std::shared_ptr<stats::NamedCounter> failure_mode_allowed;

  nlohmann::json toJson() const override;
};

// Parses one ratelimit mapping (listener level or per_filter_config);
// errors go to r.ctx() naming file:line:col and the path.
std::shared_ptr<RateLimitConfig> parseConfig(config::MapReader& r, bool per_route);

// The GCRA script, hashed once.
const redis::LuaScript& gcraScript();

// One per stream, in both chains: decodes to decide, encodes to add the
// x-ratelimit headers to its own 429.
class RateLimitFilter final : public sluice::http::PassThroughDecoderFilter,
                              public sluice::http::PassThroughEncoderFilter,
                              private redis::RedisRequest {
 public:
  explicit RateLimitFilter(const RateLimitConfig& config) : config_(config) {}
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  sluice::http::FilterHeadersStatus encodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  void onDestroy() override;

 private:
  void onReply(const redis::RedisResult& result) override;
  // Redis failed: true when the request goes on (failure_mode allow).
  bool failOpen();

  const RateLimitConfig& config_;
  const RateLimitConfig* active_ = nullptr;  // the config deciding this request (may be per-route)
  bool over_limit_ = false;
  int64_t retry_after_ms_ = 0;
  int64_t reset_ms_ = 0;
};

const legacy::HttpFactory& factory();

}  // namespace sluice::filters::global_ratelimit
