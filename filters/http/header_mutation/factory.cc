#include "config/yaml_reader.h"
#include "filters/http/header_mutation/header_mutation.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::header_mutation {
namespace {

class Factory final : public legacy::HttpFactory {
 public:
  std::string_view name() const override { return "header_mutation"; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> parse(config::MapReader& r) const override {
    auto cfg = std::make_shared<HeaderMutationConfig>();
    sluice::http::parseHeaderMutation(r, cfg->mutation);
    r.finish();
    return cfg;
  }
  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addStreamFilter(util::makePooledShared<HeaderMutationFilter>(static_cast<const HeaderMutationConfig&>(cfg)));
  }
};

}  // namespace

nlohmann::json HeaderMutationConfig::toJson() const { return sluice::http::headerMutationJson(mutation); }

const legacy::HttpFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::header_mutation
