#pragma once
// The gRPC client on an HTTP/2 stack independent of nghttp2: Python's grpcio
// (gRPC C-core), Debian's python3-grpcio, run as
// tests/integration/support/grpc_python_client.py once per call.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/net.h"

namespace sluice::itest {

// Succeeds when /usr/bin/python3 imports grpc; the failure says to run
// scripts/install-deps.
::testing::AssertionResult havePythonGrpcio();

// Runs `grpc_python_client.py MODE TARGET ARGS...` (bounded by `timeout`)
// and returns its JSON line, or {"error": ...} with what it printed instead.
nlohmann::json runPythonGrpcClient(const std::string& mode, const std::string& target,
                                   const std::vector<std::string>& args = {}, Millis timeout = Millis(30000));

}  // namespace sluice::itest
