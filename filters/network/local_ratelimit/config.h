#pragma once
// local_ratelimit (L4): a non-terminal network filter that admits new
// connections from a token bucket shared by all workers, placed before the
// terminal filter:
//
//   listeners:
//     - name: db
//       address: 0.0.0.0:5432
//       local_ratelimit:
//         stat_prefix: db          # label on the metrics (required)
//         token_bucket: {max_tokens: 100, tokens_per_fill: 100, fill_interval: 1s}   # required
//         per_key: {source: client_ip, max_keys: 10000}   # optional: a bucket per source IP
//         shadow: false            # count what would be refused, refuse nothing
//       tcp_proxy: {cluster: db}
//
// A connection without a token is closed at once, before any later filter
// connects upstream or reads a byte.

#include <memory>
#include <string>

#include "proxy/net/filter.h"
#include "proxy/ratelimit/local_limiter.h"
#include "proxy/stats/named_counters.h"
#include "filters/legacy.h"

namespace sluice::filters::l4_ratelimit {

struct L4RateLimitConfig final : net::NetworkFilterConfig {
  std::string stat_prefix;
  bool shadow = false;
  sluice::ratelimit::LocalLimiter limiter;  // shared mutable state: atomics only

  // Resolved once at parse; key_table_full is null unless per_key is set.
  std::shared_ptr<stats::NamedCounter> ok;
  std::shared_ptr<stats::NamedCounter> limited;
  std::shared_ptr<stats::NamedCounter> shadow_limited;
  std::shared_ptr<stats::NamedCounter> key_table_full;

  nlohmann::json toJson() const override;
};

// Parses the filter's mapping; buckets' epochs count from `start`. Errors go to r.ctx().
std::shared_ptr<L4RateLimitConfig> parseConfig(config::MapReader& r, event::MonoTime start);

const legacy::NetworkFactory& factory();

}  // namespace sluice::filters::l4_ratelimit
