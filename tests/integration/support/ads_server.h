#pragma once
// ads_server.js (an ADS server on @grpc/grpc-js, not sluice-control) as a
// child process the test drives: set() gives a resource type a new version
// (pushed to the subscribed streams), requests() reads back every
// DiscoveryRequest the server saw, so a test can wait for an ACK or a NACK.
// stop() kills it (the stream breaks); start() again binds the same port.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// One DiscoveryRequest as ads_server.js logged it.
struct AdsRequest {
  int stream = 0;
  std::string type_url;
  std::string version_info;
  std::string response_nonce;
  std::vector<std::string> resource_names;
  bool nack = false;
  std::string error;  // error_detail.message
  int error_code = 0;
  nlohmann::json node;  // null unless the request carried it
  // Delta requests: resource_names holds the names subscribed, version_info
  // the version of the response the nonce answers.
  bool delta = false;
  std::vector<std::string> unsubscribe;
  std::map<std::string, std::string> initial_resource_versions;
  std::string shortType() const;  // "Cluster"
};

class AdsServerProcess {
 public:
  AdsServerProcess();
  ~AdsServerProcess();
  AdsServerProcess(const AdsServerProcess&) = delete;
  AdsServerProcess& operator=(const AdsServerProcess&) = delete;

  // Binds 127.0.0.1:port (0: a free one the first time, the same one after a stop()).
  ::testing::AssertionResult start(Millis timeout = Millis(15000));
  // SIGKILL and reap: open streams break, the port refuses connections.
  void stop();
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Makes `resources` (protobufjs objects, each with "@type") the set of
  // `type` ("Cluster", ...) at `version`, and waits (bounded) for the
  // server to confirm it.
  ::testing::AssertionResult set(const std::string& type, const std::string& version, const nlohmann::json& resources,
                                 Millis timeout = Millis(5000));

  // Every request logged since start() (all runs, in order).
  std::vector<AdsRequest> requests() const;
  // Polls requests() until one matches; the failure lists what was seen.
  ::testing::AssertionResult waitRequest(const std::function<bool(const AdsRequest&)>& pred,
                                         const std::string& expectation, Millis timeout = Millis(5000),
                                         AdsRequest* found = nullptr) const;
  // An ACK of `type` at `version` (no error_detail).
  ::testing::AssertionResult waitAck(const std::string& type, const std::string& version,
                                     Millis timeout = Millis(5000)) const;
  // A NACK of `type` (error_detail set), after `after` requests.
  ::testing::AssertionResult waitNack(const std::string& type, AdsRequest* found, Millis timeout = Millis(5000)) const;
  std::string outputText() const;
  std::string stderrText() const;

 private:
  std::vector<nlohmann::json> events() const;
  TempDir dir_;
  std::string fifo_;
  int fifo_fd_ = -1;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int runs_ = 0;
};

}  // namespace sluice::itest
