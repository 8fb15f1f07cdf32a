#include "proxy/server/config_source.h"

#include "proxy/module/grpc_module_loader.h"

namespace sluice::server {

std::unique_ptr<ConfigSource> makeConfigSource(std::shared_ptr<const config::Config> loaded, event::Loop& loop,
                                               ConfigSink& sink) {
  const auto& spec = loaded->bootstrap.config_source;
  switch (spec.kind) {
    case config::ConfigSourceSpec::Kind::File:
      return std::make_unique<FileConfigSource>(spec.path);
    case config::ConfigSourceSpec::Kind::Ads: {
      std::string error;
      const module::GrpcModule* grpc = module::loadGrpcModule(&error);
      return grpc ? grpc->make_ads_source(std::move(loaded), loop, sink) : nullptr;
    }
  }
  return nullptr;
}

}  // namespace sluice::server
