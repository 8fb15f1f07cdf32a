#include <chrono>

#include "filters/http/local_ratelimit/filter.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::local_ratelimit {
namespace {

constexpr const char* kRequestsMetric = "sluice_local_ratelimit_requests_total";

std::shared_ptr<stats::NamedCounter> requests(const std::string& prefix, const char* result) {
  return stats::namedCounter(kRequestsMetric, "HTTP requests seen by local rate limits, by outcome",
                             {{"stat_prefix", prefix}, {"result", result}});
}

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const sluice::http::HttpFilterConfig> build(const config::FilterSpec& spec) const override {
    // Built on the main thread (snapshot or route table): each build gets
    // fresh, full buckets whose epochs count from now.
    return std::make_shared<RuntimeConfig>(static_cast<const Spec&>(spec), std::chrono::steady_clock::now());
  }

  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addStreamFilter(util::makePooledShared<LocalRateLimitFilter>(static_cast<const RuntimeConfig&>(cfg)));
  }
};

}  // namespace

RuntimeConfig::RuntimeConfig(const Spec& s, event::MonoTime start) : spec(s), limiter(s.limit, start) {
  if (spec.limit.token_bucket) limit_value = std::to_string(spec.limit.token_bucket->max_tokens);
  // A config without a bucket never counts: no series for it.
  if (!limiter.enabled()) return;
  ok = requests(spec.stat_prefix, "ok");
  limited = requests(spec.stat_prefix, "limited");
  shadow_limited = requests(spec.stat_prefix, "shadow_limited");
  if (limiter.keyed())
    key_table_full = stats::namedCounter(sluice::ratelimit::kKeyTableFullMetric, sluice::ratelimit::kKeyTableFullHelp,
                                         {{"stat_prefix", spec.stat_prefix}});
}

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::local_ratelimit
