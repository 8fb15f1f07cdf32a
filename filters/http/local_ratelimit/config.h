#pragma once
// local_ratelimit (HTTP): token-bucket rate limiting inside this proxy, exact
// across workers. Listener level, in http_filters:
//
//   - local_ratelimit:
//       stat_prefix: edge        # label on the metrics (required)
//       token_bucket: {max_tokens: 10, tokens_per_fill: 10, fill_interval: 1s}
//       per_key: {source: client_ip | path | header, header: x-user, max_keys: 10000}
//       shadow: false            # count what would be limited, limit nothing
//       response_headers: false  # x-ratelimit-* on allowed responses too
//
// A route or virtual host may override it with the same schema under
// `per_filter_config: {local_ratelimit: {...}}`; the most specific one applies
// (route, then virtual host, then listener). Each parsed config owns its
// bucket(s): a virtual host's bucket is shared by all its routes, a route's is
// its own. A config without token_bucket limits nothing (at the listener: the
// filter acts only where a route or virtual host sets one; on a route: turns
// limiting off there).
//
// Over the limit: 429 with retry-after, x-ratelimit-limit, -remaining (0) and
// -reset, response flag RL, details "local_rate_limited".

#include <memory>
#include <string>

#include "proxy/http/filter.h"
#include "proxy/ratelimit/local_limiter.h"
#include "proxy/stats/named_counters.h"
#include "filters/legacy.h"

namespace sluice::filters::local_ratelimit {

inline constexpr std::string_view kFilterName = "local_ratelimit";

struct LocalRateLimitConfig final : sluice::http::HttpFilterConfig {
  std::string stat_prefix;
  bool shadow = false;
  bool response_headers = false;
  sluice::ratelimit::LocalLimiter limiter;  // shared mutable state: atomics only

  // Resolved once at parse; shared by every config with the same stat_prefix.
  // Null when the limiter is disabled (it never counts then); key_table_full
  // is null unless per_key is set.
  std::shared_ptr<stats::NamedCounter> ok;
  std::shared_ptr<stats::NamedCounter> limited;
  std::shared_ptr<stats::NamedCounter> shadow_limited;
  std::shared_ptr<stats::NamedCounter> key_table_full;
  std::string limit_value;  // x-ratelimit-limit, preformatted

  nlohmann::json toJson() const override;
};

// Parses one local_ratelimit mapping (listener level or per_filter_config).
// Buckets start full, their epochs counted from `start`. Errors go to r.ctx().
std::shared_ptr<LocalRateLimitConfig> parseConfig(config::MapReader& r, event::MonoTime start);

const legacy::HttpFactory& factory();

}  // namespace sluice::filters::local_ratelimit
