#pragma once
// The per-connection L4 rate-limit filter (config and YAML: config.h). Takes
// one token when the connection is accepted; with none left (and not in
// shadow mode) it closes the connection inside onNewConnection and stops the
// chain, so the terminal filter never connects upstream. The server checks
// that the connection is still open before each later filter, and the
// connection object is deleted at the end of the loop turn (deferred), so
// closing here is safe.
//
// One per connection, on the worker that accepted it; the config outlives it.

#include "filters/network/local_ratelimit/config.h"
#include "proxy/net/filter.h"

namespace sluice::filters::l4_ratelimit {

class L4RateLimitFilter final : public net::NetworkFilter {
 public:
  L4RateLimitFilter(const L4RateLimitConfig& config, event::Loop& loop) : config_(config), loop_(loop) {}

  void initialize(net::ReadFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  net::FilterStatus onNewConnection() override;
  net::FilterStatus onData(net::Buffer&, bool) override { return net::FilterStatus::Continue; }

 private:
  const L4RateLimitConfig& config_;
  event::Loop& loop_;
  net::ReadFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace sluice::filters::l4_ratelimit
