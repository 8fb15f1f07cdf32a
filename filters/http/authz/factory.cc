#include "filters/http/authz/filter.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::authz {
namespace {

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return kFilterName; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> build(const config::FilterSpec& spec) const override {
    return std::make_shared<AuthzConfig>(static_cast<const Spec&>(spec));
  }
  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addDecoderFilter(util::makePooledShared<AuthzFilter>(static_cast<const AuthzConfig&>(cfg)));
  }
};

}  // namespace

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::authz
