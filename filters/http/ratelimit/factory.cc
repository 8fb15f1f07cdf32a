// ratelimit: Spec -> RuntimeConfig (script arguments, counters), and the filters.
#include <cstdio>

#include "filters/http/ratelimit/filter.h"
#include "filters/http/ratelimit/gcra_script.h"
#include "proxy/stats/named_counters.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::global_ratelimit {
namespace {

constexpr const char* kRequestsMetric = "sluice_ratelimit_requests_total";
constexpr const char* kRequestsHelp = "Requests checked against a Redis-backed global rate limit, by result";

std::shared_ptr<stats::NamedCounter> requests(const std::string& prefix, const char* result) {
  return stats::namedCounter(kRequestsMetric, kRequestsHelp, {{"stat_prefix", prefix}, {"result", result}});
}

double unitMicros(Spec::Unit unit) {
  switch (unit) {
    case Spec::Unit::Second: return 1e6;
    case Spec::Unit::Minute: return 60e6;
    case Spec::Unit::Hour: return 3600e6;
  }
  return 1e6;
}

// Microseconds with three decimals: an interval that is not a whole number
// of microseconds (1 s / 3) keeps its rate.
std::string fixed3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return kFilterName; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> build(const config::FilterSpec& spec) const override {
    return std::make_shared<RuntimeConfig>(static_cast<const Spec&>(spec));
  }
  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addStreamFilter(util::makePooledShared<RateLimitFilter>(static_cast<const RuntimeConfig&>(cfg)));
  }
};

}  // namespace

RuntimeConfig::RuntimeConfig(const Spec& s) : spec(s) {
  for (const auto& d : spec.descriptors)
    key_prefixes.push_back("|" + std::string(d.kind == Descriptor::Kind::Header ? d.header : kindName(d.kind)) + "=");
  if (spec.requests_per_unit > 0) {
    const double interval = unitMicros(spec.unit) / spec.requests_per_unit;
    interval_arg = fixed3(interval);
    tolerance_arg = fixed3(interval * spec.burst);
    limit_value = std::to_string(spec.requests_per_unit);
  }
  if (!spec.stat_prefix.empty()) {
    ok = requests(spec.stat_prefix, "ok");
    over_limit = requests(spec.stat_prefix, "over_limit");
    error = requests(spec.stat_prefix, "error");
    failure_mode_allowed = requests(spec.stat_prefix, "failure_mode_allowed");
  }
}

const redis::LuaScript& gcraScript() {
  static const redis::LuaScript script{std::string(kGcraScript)};
  return script;
}

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::global_ratelimit
