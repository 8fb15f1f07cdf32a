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
// (route, then virtual host, then listener). Each built config owns its
// bucket(s): a virtual host's bucket is shared by all its routes, a route's is
// its own. A config without token_bucket limits nothing (at the listener: the
// filter acts only where a route or virtual host sets one; on a route: turns
// limiting off there).
//
// Over the limit: 429 with retry-after, x-ratelimit-limit, -remaining (0) and
// -reset, response flag RL, details "local_rate_limited".

#include <string>
#include <string_view>

#include "config/filter_spec.h"
#include "config/local_limit.h"

namespace sluice::filters::local_ratelimit {

inline constexpr std::string_view kFilterName = "local_ratelimit";

struct Spec final : config::FilterSpec {
  std::string stat_prefix;
  bool shadow = false;
  bool response_headers = false;
  config::LocalLimitSpec limit;

  nlohmann::json toJson() const override;
};

// Reads the listener-level mapping and per_filter_config entries (same schema).
const config::HttpFilterReader& reader();

}  // namespace sluice::filters::local_ratelimit
