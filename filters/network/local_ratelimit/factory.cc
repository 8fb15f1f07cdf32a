#include <chrono>

#include "filters/network/local_ratelimit/filter.h"

namespace sluice::filters::l4_ratelimit {
namespace {

std::shared_ptr<stats::NamedCounter> connections(const std::string& prefix, const char* result) {
  return stats::namedCounter("sluice_local_ratelimit_connections_total",
                             "Connections seen by L4 local rate limits, by outcome",
                             {{"stat_prefix", prefix}, {"result", result}});
}

class Factory final : public net::NetworkFilterFactory {
 public:
  std::string_view name() const override { return "local_ratelimit"; }

  std::shared_ptr<const net::NetworkFilterConfig> build(const config::FilterSpec& spec) const override {
    // Built on the main thread when a snapshot is built: each snapshot gets
    // fresh, full buckets whose epochs count from now.
    return std::make_shared<RuntimeConfig>(static_cast<const Spec&>(spec), std::chrono::steady_clock::now());
  }

  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                             net::FilterContext& ctx) const override {
    return std::make_unique<L4RateLimitFilter>(static_cast<const RuntimeConfig&>(cfg), ctx.loop);
  }
};

}  // namespace

RuntimeConfig::RuntimeConfig(const Spec& s, event::MonoTime start) : spec(s), limiter(s.limit, start) {
  if (!limiter.enabled()) return;  // not from a valid spec: token_bucket is required
  ok = connections(spec.stat_prefix, "ok");
  limited = connections(spec.stat_prefix, "limited");
  shadow_limited = connections(spec.stat_prefix, "shadow_limited");
  if (limiter.keyed())
    key_table_full = stats::namedCounter(sluice::ratelimit::kKeyTableFullMetric, sluice::ratelimit::kKeyTableFullHelp,
                                         {{"stat_prefix", spec.stat_prefix}});
}

const net::NetworkFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::l4_ratelimit
