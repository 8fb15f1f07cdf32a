#include "filters/http/header_mutation/filter.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::header_mutation {
namespace {

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return "header_mutation"; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> build(const config::FilterSpec& spec) const override {
    return std::make_shared<HeaderMutationConfig>(static_cast<const Spec&>(spec));
  }
  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addStreamFilter(util::makePooledShared<HeaderMutationFilter>(static_cast<const HeaderMutationConfig&>(cfg)));
  }
};

}  // namespace

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::header_mutation
