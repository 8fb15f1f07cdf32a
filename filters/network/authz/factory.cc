#include "filters/network/authz/filter.h"

namespace sluice::filters::network_authz {
namespace {

class Factory final : public net::NetworkFilterFactory {
 public:
  std::string_view name() const override { return "authz"; }
  std::shared_ptr<const net::NetworkFilterConfig> build(const config::FilterSpec& spec) const override {
    return std::make_shared<NetworkAuthzConfig>(static_cast<const Spec&>(spec));
  }
  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                             net::FilterContext& ctx) const override {
    return std::make_unique<NetworkAuthzFilter>(static_cast<const NetworkAuthzConfig&>(cfg), ctx.loop);
  }
};

}  // namespace

const net::NetworkFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::network_authz
