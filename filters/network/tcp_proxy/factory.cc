#include "filters/network/tcp_proxy/factory.h"

#include "config/yaml_reader.h"
#include "filters/network/tcp_proxy/config.h"
#include "filters/network/tcp_proxy/tcp_proxy.h"

namespace sluice::filters::tcp_proxy {
namespace {

class Factory final : public legacy::NetworkFactory {
 public:
  std::string_view name() const override { return "tcp_proxy"; }
  bool terminal() const override { return true; }

  std::shared_ptr<const net::NetworkFilterConfig> parse(config::MapReader& r) const override {
    auto cfg = std::make_shared<TcpProxyConfig>();
    r.string("cluster", cfg->cluster, /*required=*/true);
    cfg->cluster_loc = r.locOf("cluster");
    r.duration("idle_timeout", cfg->idle_timeout);
    r.uint32("max_connect_attempts", cfg->max_connect_attempts, 1, 16);
    r.finish();
    return cfg;
  }

  void validate(const net::NetworkFilterConfig& base, const config::Config& whole, std::string_view path,
                config::ParseContext& ctx) const override {
    const auto& cfg = static_cast<const TcpProxyConfig&>(base);
    if (!cfg.cluster.empty() && whole.findCluster(cfg.cluster) == nullptr)
      ctx.missingReference(cfg.cluster_loc, std::string(path) + ".cluster", "unknown cluster '" + cfg.cluster + "'");
  }

  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& base,
                                                 net::FilterContext& ctx) const override {
    return std::make_unique<TcpProxyFilter>(static_cast<const TcpProxyConfig&>(base), ctx);
  }
};

}  // namespace

const legacy::NetworkFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::tcp_proxy
