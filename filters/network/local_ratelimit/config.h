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

#include <string>

#include "config/filter_spec.h"
#include "config/local_limit.h"

namespace sluice::filters::l4_ratelimit {

struct Spec final : config::FilterSpec {
  std::string stat_prefix;
  bool shadow = false;
  config::LocalLimitSpec limit;

  nlohmann::json toJson() const override;
};

const config::NetworkFilterReader& reader();

}  // namespace sluice::filters::l4_ratelimit
