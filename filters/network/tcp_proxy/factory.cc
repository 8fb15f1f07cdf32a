#include "filters/network/tcp_proxy/filter.h"

namespace sluice::filters::tcp_proxy {
namespace {

// A tcp_proxy has no state shared between connections: its runtime config is its spec.
struct RuntimeConfig final : net::NetworkFilterConfig {
  explicit RuntimeConfig(const Spec& s) : spec(s) {}
  const Spec spec;
};

class Factory final : public net::NetworkFilterFactory {
 public:
  std::string_view name() const override { return "tcp_proxy"; }
  std::shared_ptr<const net::NetworkFilterConfig> build(const config::FilterSpec& spec) const override {
    return std::make_shared<RuntimeConfig>(static_cast<const Spec&>(spec));
  }
  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                             net::FilterContext& ctx) const override {
    return std::make_unique<TcpProxyFilter>(static_cast<const RuntimeConfig&>(cfg).spec, ctx);
  }
};

}  // namespace

const net::NetworkFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::tcp_proxy
