#pragma once
// The demo mesh (config/examples/mesh/control.yaml) as a test fixture, with
// real processes on loopback: sluice-control with its CA, a sidecar per
// workload and the edge gateway, each a real `sluice` taking its config over
// ADS and its certificate from the CA (its own key, a bootstrap token). The
// apps are recording upstreams, so a test sees what reached them. The
// example's fixed ports are swapped for free ones.
//
// A derived fixture may give the apps other handlers and edit the example
// before it starts (more services, a route of its own, ports it names).

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// A port free now (bound to 0, then let go): the mesh names its listeners'
// addresses in advance, as endpoints of one another.
uint16_t freePort();

std::string replaceAll(std::string s, const std::string& from, const std::string& to);

class MeshDemo : public ::testing::Test {
 protected:
  struct Proxy {
    std::string name, service_account;
    std::unique_ptr<ProxyProcess> process;
  };

  void SetUp() override;

  // The handler of app "frontend", "backend-v1" or "backend-v2".
  virtual HttpUpstream::Handler appHandler(const std::string& app);
  // The example's control.yaml before its ports are swapped: a derived
  // fixture adds to it here (its extra example ports go in morePorts()).
  virtual std::string editExample(std::string yaml) { return yaml; }
  virtual std::vector<std::string> morePorts() { return {}; }

  void startProxy(const std::string& name, const std::string& sa);
  // The free port that stands for the example's fixed one ("8080", "15106").
  uint16_t port(const std::string& example_port) { return ports_.at(example_port); }
  // The roots the sidecars verify the CA's port with (their root_file, read
  // at every call): at first the CA's root; a root rotation adds the next.
  std::string caRootsPath() const { return dir_.path() + "/ca-roots.pem"; }
  ProxyProcess& proxy(const std::string& name) { return *proxies_.at(name).process; }

  // The split's weights in control.yaml, as an operator edits them.
  void setSplit(int v1, int v2);
  // SIGKILLs sluice-control and starts it again with `yaml` on the same ADS
  // port (`yaml` as yaml_ is: its ADS address still 127.0.0.1:0).
  ::testing::AssertionResult restartControl(const std::string& yaml);

  TempDir dir_;
  std::map<std::string, std::unique_ptr<HttpUpstream>> apps_;
  std::map<std::string, uint16_t> ports_;
  std::string key_, yaml_;
  std::unique_ptr<ControlDaemonProcess> control_;
  std::map<std::string, Proxy> proxies_;
};

}  // namespace sluice::itest
