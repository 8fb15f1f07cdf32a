#include "filters/network/local_ratelimit/config.h"

#include "config/yaml_reader.h"

namespace sluice::filters::l4_ratelimit {
namespace {

std::shared_ptr<stats::NamedCounter> connections(const std::string& prefix, const char* result) {
  return stats::namedCounter("sluice_local_ratelimit_connections_total",
                             "Connections seen by L4 local rate limits, by outcome",
                             {{"stat_prefix", prefix}, {"result", result}});
}

}  // namespace

std::shared_ptr<L4RateLimitConfig> parseConfig(config::MapReader& r, event::MonoTime start) {
  auto cfg = std::make_shared<L4RateLimitConfig>();
  r.string("stat_prefix", cfg->stat_prefix, /*required=*/true);
  if (r.has("stat_prefix") && cfg->stat_prefix.empty())
    r.ctx().error(r.locOf("stat_prefix"), r.childPath("stat_prefix"), "must not be empty");
  config::LocalLimitSpec spec;
  config::readLocalLimitSpec(r, spec, /*request_keys=*/false);
  if (!r.has("token_bucket")) r.ctx().error(r.node(), r.childPath("token_bucket"), "missing required field");
  r.boolean("shadow", cfg->shadow);
  r.finish();

  cfg->limiter = sluice::ratelimit::LocalLimiter(spec, start);
  if (!cfg->limiter.enabled()) return cfg;  // only after errors: the config is rejected
  cfg->ok = connections(cfg->stat_prefix, "ok");
  cfg->limited = connections(cfg->stat_prefix, "limited");
  cfg->shadow_limited = connections(cfg->stat_prefix, "shadow_limited");
  if (cfg->limiter.keyed())
    cfg->key_table_full = stats::namedCounter(sluice::ratelimit::kKeyTableFullMetric,
                                              sluice::ratelimit::kKeyTableFullHelp, {{"stat_prefix", cfg->stat_prefix}});
  return cfg;
}

nlohmann::json L4RateLimitConfig::toJson() const {
  nlohmann::json j = {{"stat_prefix", stat_prefix}, {"shadow", shadow}};
  config::addLocalLimitJson(limiter.spec(), j);
  return j;
}

}  // namespace sluice::filters::l4_ratelimit
