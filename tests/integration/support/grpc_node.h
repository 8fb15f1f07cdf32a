#pragma once
// gRPC peers for the integration tests, on Node and @grpc/grpc-js (installed
// into .npm-deps/ by scripts/install-deps): the sluice.test.Echo server of
// grpc_server.js as a child process, and grpc_client.js run once per call.
// Both serve and call echo.proto beside them.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/net.h"

namespace sluice::itest {

// `node SCRIPT` with NODE_PATH at .npm-deps/node_modules: the argv prefix
// for tests/integration/support/SCRIPT.
std::vector<std::string> nodeScript(const std::string& script);
// Succeeds when .npm-deps holds @grpc/grpc-js and @grpc/proto-loader; the
// failure says to run scripts/install-deps.
::testing::AssertionResult haveGrpcNodeDeps();

// grpc_server.js as a child process. start() waits (bounded) for its
// "listening PORT" line; the destructor SIGKILLs and reaps it. What it logs
// (one line per call it saw cancelled) is readable at any time.
class GrpcEchoServer {
 public:
  GrpcEchoServer();
  ~GrpcEchoServer();
  GrpcEchoServer(const GrpcEchoServer&) = delete;
  GrpcEchoServer& operator=(const GrpcEchoServer&) = delete;

  // Binds 127.0.0.1:port (0: a free one).
  ::testing::AssertionResult start(uint16_t port = 0, Millis timeout = Millis(10000));
  // SIGTERM (grpc-js shuts its sessions down) and reap; SIGKILL if it is
  // still running at `timeout`.
  void stop(Millis timeout = Millis(3000));
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Lines "cancelled METHOD after MS deadline set|none" logged so far: calls
  // that ended before the server answered them.
  std::vector<std::string> cancellations() const;
  std::string stderrText() const;

 private:
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Runs `grpc_client.js MODE TARGET ARGS...` (bounded by `timeout`) and
// returns its JSON line, or {"error": ...} with what it printed instead.
nlohmann::json runGrpcClient(const std::string& mode, const std::string& target, const std::vector<std::string>& args = {},
                             Millis timeout = Millis(30000));

}  // namespace sluice::itest
