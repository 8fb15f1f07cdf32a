// The gRPC module's entry point (grpc_module.h): built into sluice-grpc.so,
// never into the binary.

#include "proxy/ads/ads_client.h"
#include "proxy/module/grpc_module.h"

namespace sluice::module {
namespace {

std::unique_ptr<server::ConfigSource> makeAdsSource(std::shared_ptr<const config::Config> loaded, event::Loop& loop,
                                                    server::ConfigSink& sink) {
  const auto& spec = loaded->bootstrap.config_source.ads;
  const std::string address = spec.address;
  const bool delta = spec.delta;
  return std::make_unique<ads::AdsClient>(
      loop, sink, std::move(loaded),
      [address, delta, &loop](ads::AdsStreamEvents& e) { return ads::openGrpcAdsStream(address, loop, e, delta); });
}

const GrpcModule kModule{kGrpcModuleAbi, SLUICE_VERSION, &makeAdsSource, &ca::makeGrpcCaClient};

}  // namespace
}  // namespace sluice::module

extern "C" __attribute__((visibility("default"))) const sluice::module::GrpcModule* sluice_grpc_module_v1() {
  return &sluice::module::kModule;
}
