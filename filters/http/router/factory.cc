#include "config/yaml_reader.h"
#include "filters/http/router/router.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::router {
namespace {

struct RouterConfig final : sluice::http::HttpFilterConfig {
  nlohmann::json toJson() const override { return nlohmann::json::object(); }
};

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return "router"; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> parse(config::MapReader& r) const override {
    r.finish();  // no fields
    return std::make_shared<RouterConfig>();
  }
  void createFilters(const sluice::http::HttpFilterConfig&, sluice::http::FilterChainBuilder& chain) const override {
    chain.addDecoderFilter(util::makePooledShared<RouterFilter>());
  }
};

}  // namespace

const sluice::http::HttpFilterConfig& defaultConfig() {
  static const RouterConfig c;
  return c;
}

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::router
