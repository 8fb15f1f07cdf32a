#pragma once
// Finds and loads the gRPC module (grpc_module.h) the first time a
// bootstrap needs it; later calls return the same module. Main thread.
//
// Where: $SLUICE_GRPC_MODULE if set, else
// <the executable's directory>/../lib/sluice/sluice-grpc.so (the build tree
// and an installed tree share that layout). The module's symbols are bound
// at load (RTLD_NOW), so a module that does not fit this binary fails here,
// with the loader's message, not at its first call.

#include <string>

#include "proxy/module/grpc_module.h"

namespace sluice::module {

// Null with *error set ("sluice-grpc.so: <why>") when it cannot be loaded.
const GrpcModule* loadGrpcModule(std::string* error);

// Where loadGrpcModule() looks, for messages and tests.
std::string grpcModulePath();

}  // namespace sluice::module
