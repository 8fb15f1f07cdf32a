#pragma once
// The L4 local rate-limit filter's runtime half (its YAML and spec: config.h).
//
// RuntimeConfig is what a snapshot holds: the bucket(s) and counters made
// from a Spec when the snapshot is built, shared by every worker.
//
// The filter, one per connection on the worker that accepted it, takes one
// token when the connection is accepted; with none left (and not in shadow
// mode) it closes the connection inside onNewConnection and stops the chain,
// so the terminal filter never connects upstream. The server checks that the
// connection is still open before each later filter, and the connection
// object is deleted at the end of the loop turn (deferred), so closing here
// is safe. The config outlives the filter.

#include <memory>

#include "filters/network/local_ratelimit/config.h"
#include "proxy/net/filter.h"
#include "proxy/ratelimit/local_limiter.h"
#include "proxy/stats/named_counters.h"

namespace sluice::filters::l4_ratelimit {

struct RuntimeConfig final : net::NetworkFilterConfig {
  // Buckets' epochs count from `start`.
  RuntimeConfig(const Spec& spec, event::MonoTime start);

  const Spec spec;
  sluice::ratelimit::LocalLimiter limiter;  // shared mutable state: atomics only

  // Resolved once at build; key_table_full is null unless per_key is set.
  std::shared_ptr<stats::NamedCounter> ok;
  std::shared_ptr<stats::NamedCounter> limited;
  std::shared_ptr<stats::NamedCounter> shadow_limited;
  std::shared_ptr<stats::NamedCounter> key_table_full;
};

class L4RateLimitFilter final : public net::NetworkFilter {
 public:
  L4RateLimitFilter(const RuntimeConfig& config, event::Loop& loop) : config_(config), loop_(loop) {}

  void initialize(net::ReadFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  net::FilterStatus onNewConnection() override;
  net::FilterStatus onData(net::Buffer&, bool) override { return net::FilterStatus::Continue; }

 private:
  const RuntimeConfig& config_;
  event::Loop& loop_;
  net::ReadFilterCallbacks* callbacks_ = nullptr;
};

// Builds the runtime config from a Spec (buckets counted from the build), and the filters.
const net::NetworkFilterFactory& factory();

}  // namespace sluice::filters::l4_ratelimit
