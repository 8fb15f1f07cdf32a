#include "proxy/server/config_source.h"

#include "proxy/ads/ads_client.h"

namespace sluice::server {

std::unique_ptr<ConfigSource> makeConfigSource(std::shared_ptr<const config::Config> loaded, event::Loop& loop,
                                               ConfigSink& sink) {
  const auto& spec = loaded->bootstrap.config_source;
  switch (spec.kind) {
    case config::ConfigSourceSpec::Kind::File: return std::make_unique<FileConfigSource>(spec.path);
    case config::ConfigSourceSpec::Kind::Ads: {
      const std::string address = spec.ads.address;
      const bool delta = spec.ads.delta;
      return std::make_unique<ads::AdsClient>(loop, sink, std::move(loaded),
                                              [address, delta, &loop](ads::AdsStreamEvents& e) {
                                                return ads::openGrpcAdsStream(address, loop, e, delta);
                                              });
    }
  }
  return nullptr;
}

}  // namespace sluice::server
