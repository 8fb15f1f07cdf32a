#pragma once
// A Node script from tests/integration/support as an upstream child process
// (protocol_server.js, grpc_health_server.js): started with its arguments,
// ready once it prints "listening PORT", killed and reaped by the destructor.
// stop() and start() again on the same port let a test take a host down and
// bring it back.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

class NodeUpstream {
 public:
  // `script` is a file name in tests/integration/support; `args_before_port`
  // come before the port argument, `args_after_port` after it.
  NodeUpstream(std::string script, std::vector<std::string> args_before_port,
               std::vector<std::string> args_after_port = {});
  ~NodeUpstream();
  NodeUpstream(const NodeUpstream&) = delete;
  NodeUpstream& operator=(const NodeUpstream&) = delete;

  // Binds 127.0.0.1:port (0: a free one the first time, the same one after a stop()).
  ::testing::AssertionResult start(Millis timeout = Millis(10000));
  // The next start() binds `port` (another server taking over a host's address).
  void usePort(uint16_t port) { port_ = port; }
  // SIGKILL and reap: the port refuses connections until start() again.
  void stop();
  // Sends `sig` to the running script (scripts give signals a meaning of their own).
  void signal(int sig) const;
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string stderrText() const;

 private:
  std::string script_;
  std::vector<std::string> before_, after_;
  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace sluice::itest
