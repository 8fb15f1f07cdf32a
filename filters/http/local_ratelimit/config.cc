#include "filters/http/local_ratelimit/config.h"

#include "config/yaml_reader.h"

namespace sluice::filters::local_ratelimit {
namespace {

constexpr const char* kRequestsMetric = "sluice_local_ratelimit_requests_total";

std::shared_ptr<stats::NamedCounter> requests(const std::string& prefix, const char* result) {
  return stats::namedCounter(kRequestsMetric, "HTTP requests seen by local rate limits, by outcome",
                             {{"stat_prefix", prefix}, {"result", result}});
}

}  // namespace

std::shared_ptr<LocalRateLimitConfig> parseConfig(config::MapReader& r, event::MonoTime start) {
  auto cfg = std::make_shared<LocalRateLimitConfig>();
  r.string("stat_prefix", cfg->stat_prefix, /*required=*/true);
  if (r.has("stat_prefix") && cfg->stat_prefix.empty())
    r.ctx().error(r.locOf("stat_prefix"), r.childPath("stat_prefix"), "must not be empty");
  config::LocalLimitSpec spec;
  config::readLocalLimitSpec(r, spec, /*request_keys=*/true);
  r.boolean("shadow", cfg->shadow);
  r.boolean("response_headers", cfg->response_headers);
  r.finish();

  cfg->limiter = sluice::ratelimit::LocalLimiter(spec, start);
  if (spec.token_bucket) cfg->limit_value = std::to_string(spec.token_bucket->max_tokens);
  // A config without a bucket never counts: no series for it.
  if (!cfg->limiter.enabled()) return cfg;
  cfg->ok = requests(cfg->stat_prefix, "ok");
  cfg->limited = requests(cfg->stat_prefix, "limited");
  cfg->shadow_limited = requests(cfg->stat_prefix, "shadow_limited");
  if (cfg->limiter.keyed())
    cfg->key_table_full = stats::namedCounter(sluice::ratelimit::kKeyTableFullMetric,
                                              sluice::ratelimit::kKeyTableFullHelp, {{"stat_prefix", cfg->stat_prefix}});
  return cfg;
}

nlohmann::json LocalRateLimitConfig::toJson() const {
  nlohmann::json j = {{"stat_prefix", stat_prefix}, {"shadow", shadow}, {"response_headers", response_headers}};
  config::addLocalLimitJson(limiter.spec(), j);
  return j;
}

}  // namespace sluice::filters::local_ratelimit
