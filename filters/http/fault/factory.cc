#include "filters/http/fault/filter.h"
#include "proxy/util/random.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::fault {
namespace {

uint32_t randomPercent() { return static_cast<uint32_t>(util::threadRandom() % 100); }

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return kFilterName; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> build(const config::FilterSpec& spec) const override {
    return std::make_shared<RuntimeConfig>(static_cast<const Spec&>(spec));
  }
  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addDecoderFilter(
        util::makePooledShared<FaultFilter>(static_cast<const RuntimeConfig&>(cfg).spec, &randomPercent));
  }
};

}  // namespace

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::fault
