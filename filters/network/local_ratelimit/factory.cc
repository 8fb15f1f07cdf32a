#include "config/yaml_reader.h"
#include "filters/network/local_ratelimit/config.h"
#include "filters/network/local_ratelimit/local_ratelimit.h"
#include "proxy/net/filter.h"

namespace sluice::filters::l4_ratelimit {
namespace {

class Factory final : public legacy::NetworkFactory {
 public:
  std::string_view name() const override { return "local_ratelimit"; }
  bool terminal() const override { return false; }

  std::shared_ptr<const net::NetworkFilterConfig> parse(config::MapReader& r) const override {
    // Parsed on the main thread while a config is loaded; epochs count from here.
    return parseConfig(r, std::chrono::steady_clock::now());
  }

  void validate(const net::NetworkFilterConfig&, const config::Config&, std::string_view,
                config::ParseContext&) const override {}

  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                                 net::FilterContext& ctx) const override {
    return std::make_unique<L4RateLimitFilter>(static_cast<const L4RateLimitConfig&>(cfg), ctx.loop);
  }
};

}  // namespace

const legacy::NetworkFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::l4_ratelimit
