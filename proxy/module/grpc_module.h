#pragma once
// The proxy's gRPC side, built as a module of its own (sluice-grpc.so) and
// loaded only by a bootstrap that needs it: the ADS client (`dynamic.ads`)
// and the certificate agent's CA client (`dynamic.ca`).
//
// Why a module: protobuf and the generated Envoy messages are most of what
// a proxy on xDS maps. Linked into the binary they would cost every proxy
// their resident pages (relocations and static initializers touch them at
// start), used or not; a proxy configured by a file (an edge proxy, the
// benchmarks) maps none of them. The module's gRPC is framed by the proxy
// itself (proxy/grpc/) over its own HTTP/2 client, so it adds protobuf and
// c-ares, not gRPC C++ and its threads. See docs/PRINCIPLES.md, rule 21.
//
// The module is built from the same tree as the binary and resolves the
// proxy's own symbols (the loop, the config model, the snapshot path, the
// HTTP/2 connection pool and TLS) from the binary that loads it, which
// exports them: it holds only proxy/ads/, proxy/grpc/, the CA client, xds/
// and the generated protos. kGrpcModuleAbi guards against a module from
// another build.

#include <memory>
#include <string>

#include "config/loader.h"
#include "config/model.h"
#include "proxy/ca/ca_client.h"
#include "proxy/event/loop.h"
#include "proxy/server/config_source.h"

namespace sluice::module {

inline constexpr int kGrpcModuleAbi = 1;

struct GrpcModule {
  int abi = kGrpcModuleAbi;
  const char* version = "";  // SLUICE_VERSION of the build that made it
  // The ConfigSource of a bootstrap with `dynamic.ads` (ads::AdsClient,
  // its stream on the main loop). `loaded`: the bootstrap file as loaded.
  std::unique_ptr<server::ConfigSource> (*make_ads_source)(std::shared_ptr<const config::Config> loaded,
                                                           event::Loop& loop, server::ConfigSink& sink) = nullptr;
  // The certificate agent's client of the mesh CA (ca::makeGrpcCaClient:
  // TLS verified against `root_pem` or the roots in `root_file`, or
  // plaintext when both are empty).
  std::unique_ptr<ca::CaClient> (*make_ca_client)(event::Loop& loop, const std::string& address,
                                                  const std::string& root_pem, const std::string& root_file) = nullptr;
};

// The module's one exported symbol.
inline constexpr const char* kGrpcModuleSymbol = "sluice_grpc_module_v1";
using GrpcModuleEntry = const GrpcModule* (*)();

}  // namespace sluice::module
