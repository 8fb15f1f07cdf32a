#include "proxy/module/grpc_module_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

namespace sluice::module {

std::string grpcModulePath() {
  if (const char* path = std::getenv("SLUICE_GRPC_MODULE"); path && *path) return path;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "sluice-grpc.so";
  return (exe.parent_path().parent_path() / "lib" / "sluice" / "sluice-grpc.so").string();
}

const GrpcModule* loadGrpcModule(std::string* error) {
  static const GrpcModule* loaded = nullptr;
  if (loaded) return loaded;
  const std::string path = grpcModulePath();
  // Never closed: protobuf's static state (descriptors, the generated
  // messages' defaults) lives until exit.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    *error = std::string("cannot load the gRPC module (needed by dynamic.ads and dynamic.ca): ") + dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<GrpcModuleEntry>(dlsym(handle, kGrpcModuleSymbol));
  const GrpcModule* mod = entry ? entry() : nullptr;
  if (!mod) {
    *error = path + ": not a Sluice gRPC module (no " + kGrpcModuleSymbol + ")";
    return nullptr;
  }
  if (mod->abi != kGrpcModuleAbi || std::string(mod->version) != SLUICE_VERSION) {
    *error = path + ": built for another Sluice (module " + mod->version + ", abi " + std::to_string(mod->abi) +
             "; this binary " + SLUICE_VERSION + ", abi " + std::to_string(kGrpcModuleAbi) + ")";
    return nullptr;
  }
  loaded = mod;
  return loaded;
}

}  // namespace sluice::module
