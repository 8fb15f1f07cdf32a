#include "config/yaml_reader.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/local_ratelimit/local_ratelimit.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::local_ratelimit {
namespace {

class Factory final : public legacy::HttpFactory {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const sluice::http::HttpFilterConfig> parse(config::MapReader& r) const override {
    // Parsed on the main thread while a config is loaded; epochs count from here.
    return parseConfig(r, std::chrono::steady_clock::now());
  }

  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addStreamFilter(util::makePooledShared<LocalRateLimitFilter>(static_cast<const LocalRateLimitConfig&>(cfg)));
  }
};

}  // namespace

const legacy::HttpFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::local_ratelimit
