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
//
// This file is the plain spec and its reader; the filter and what a build
// makes of a spec (script arguments, counters) are in filter.h.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/filter_spec.h"
#include "config/model.h"
#include "ip/address.h"

namespace sluice::filters::global_ratelimit {

inline constexpr std::string_view kFilterName = "ratelimit";

struct Descriptor {
  enum class Kind { ClientIp, Header, Path, Generic };
  Kind kind = Kind::Generic;
  std::string header;  // Header: lowercase name
  std::string value;   // Generic: the fixed value
};

// "client_ip", "header", "path", "generic": the descriptor's `key`.
std::string_view kindName(Descriptor::Kind kind);

struct Spec final : config::FilterSpec {
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

  nlohmann::json toJson() const override;
};

// Reads the listener-level mapping; readPerRoute also accepts {disabled: true}.
// Errors name file:line:col and the path.
const config::HttpFilterReader& reader();

}  // namespace sluice::filters::global_ratelimit
