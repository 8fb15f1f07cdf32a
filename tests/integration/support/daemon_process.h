#pragma once
// sluice-control (SLUICE_CONTROL_BIN) as a child process for the
// integration tests, reached only as a user reaches it: its control.yaml,
// signals, its admin endpoint, its exit status and stderr; and
// daemon_xds_probe.js, an xDS client on one ADS stream whose every
// response the test can read.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// config/examples/xds/control.yaml with its fixed ADS and admin ports
// swapped for free ones (port 0).
::testing::AssertionResult exampleControlYaml(std::string* yaml);

class ControlDaemonProcess {
 public:
  // Writes `yaml` to control.yaml in a fresh temp dir; start() runs it.
  explicit ControlDaemonProcess(const std::string& yaml);
  // SIGKILLs a daemon still running; prints its stderr when the test failed.
  ~ControlDaemonProcess();
  ControlDaemonProcess(const ControlDaemonProcess&) = delete;
  ControlDaemonProcess& operator=(const ControlDaemonProcess&) = delete;

  // `sluice-control -c control.yaml --address-path DIR/addr`, waiting
  // (bounded) for the address file.
  ::testing::AssertionResult start(Millis timeout = Millis(10000));
  // Replaces control.yaml atomically (temp file + rename), as editors do.
  void writeConfig(const std::string& yaml);

  const std::string& configPath() const { return config_path_; }
  const std::string& adsAddress() const { return ads_address_; }
  const std::string& adminAddress() const { return admin_address_; }
  uint16_t adminPort() const { return admin_port_; }
  // The injection webhook's (empty without `injection:`).
  const std::string& webhookAddress() const { return webhook_address_; }
  // The CA's gRPC port (empty without `ca:`).
  const std::string& caAddress() const { return ca_address_; }

  HttpResponse get(const std::string& path) const;
  std::optional<double> metric(const std::string& name, const Labels& labels = {}) const;
  ::testing::AssertionResult waitMetricEq(const std::string& name, const Labels& labels, double want,
                                          Millis timeout = Millis(5000)) const;

  bool signal(int sig) const;
  std::optional<int> waitExit(Millis timeout);
  std::string stderrText() const;

 private:
  std::string dir_, config_path_, addr_path_, stderr_path_;
  std::string ads_address_, admin_address_, webhook_address_, ca_address_;
  uint16_t admin_port_ = 0;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = 0;
};

// daemon_xds_probe.js: one SotW ADS stream as node (id, cluster),
// subscribed to `subs` ("cds", "eds=backend", ...), ACKing everything.
class XdsProbe {
 public:
  XdsProbe(std::string ads_address, std::string node_id, std::string node_cluster, std::vector<std::string> subs);
  ~XdsProbe();  // SIGKILL and reap
  XdsProbe(const XdsProbe&) = delete;
  XdsProbe& operator=(const XdsProbe&) = delete;

  ::testing::AssertionResult start();
  void stop();
  // Every response so far, in order: {"type": "EDS", "version", "nonce", "resources": {...}}.
  std::vector<nlohmann::json> responses() const;
  // Responses of one type ("CDS", "EDS", "LDS", "RDS").
  std::vector<nlohmann::json> responses(const std::string& type) const;
  // Polls until a response of `type` satisfies `pred`; returns it.
  std::optional<nlohmann::json> waitFor(const std::string& type, const std::function<bool(const nlohmann::json&)>& pred,
                                        Millis timeout = Millis(10000)) const;
  std::string output() const;  // stdout and stderr, for failure messages

 private:
  std::string ads_, node_id_, node_cluster_;
  std::vector<std::string> subs_;
  TempDir dir_;
  pid_t pid_ = -1;
};

}  // namespace sluice::itest
