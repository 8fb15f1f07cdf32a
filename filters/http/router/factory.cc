#include "filters/http/router/router.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::router {
namespace {

struct RouterConfig final : sluice::http::HttpFilterConfig {};

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return "router"; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> build(const config::FilterSpec&) const override {
    return defaultConfig();
  }
  void createFilters(const sluice::http::HttpFilterConfig&, sluice::http::FilterChainBuilder& chain) const override {
    chain.addDecoderFilter(util::makePooledShared<RouterFilter>());
  }
};

}  // namespace

std::shared_ptr<const sluice::http::HttpFilterConfig> defaultConfig() {
  static const auto c = std::make_shared<const RouterConfig>();
  return c;
}

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::router
