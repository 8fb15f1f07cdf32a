#include "tests/integration/support/mesh_demo.h"

#include <signal.h>

#include <set>
#include <thread>
#include <utility>

#include "tests/integration/support/command.h"
#include "tests/integration/support/net.h"

namespace sluice::itest {

using namespace std::chrono_literals;

uint16_t freePort() {
  Fd fd = listenLoopback(1);
  return localPort(fd.get());
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

HttpUpstream::Handler MeshDemo::appHandler(const std::string& app) { return describeRequest(app); }

void MeshDemo::SetUp() {
  for (const char* app : {"frontend", "backend-v1", "backend-v2"})
    apps_[app] = std::make_unique<HttpUpstream>(appHandler(app));
  // Every port the mesh binds is picked here, the control plane's too, and
  // the picks are held open until all are made: distinct from one another,
  // and none left for the kernel to hand out again in this test (a port
  // picked for a sidecar once went to the control plane's admin, bound to
  // port 0).
  std::vector<std::string> example_ports = {"8080",  "15012", "15100", "15101", "15106",
                                            "15206", "15301", "15010", "15000"};
  for (const auto& p : morePorts()) example_ports.push_back(p);
  std::vector<Fd> held;
  for (const auto& p : example_ports) {
    held.push_back(listenLoopback(1));
    ports_[p] = localPort(held.back().get());
  }
  held.clear();
  key_ = dir_.write("token.key", "a-demo-token-key-of-enough-length\n");
  std::string yaml;
  ASSERT_TRUE(shippedExample("mesh/control.yaml", {}, &yaml));
  yaml = editExample(std::move(yaml));
  yaml = replaceAll(yaml, "127.0.0.1:18100", "127.0.0.1:" + std::to_string(apps_["frontend"]->port()));
  yaml = replaceAll(yaml, "127.0.0.1:18106", "127.0.0.1:" + std::to_string(apps_["backend-v1"]->port()));
  yaml = replaceAll(yaml, "127.0.0.1:18206", "127.0.0.1:" + std::to_string(apps_["backend-v2"]->port()));
  for (const auto& [from, to] : ports_) yaml = replaceAll(yaml, "127.0.0.1:" + from, "127.0.0.1:" + std::to_string(to));
  yaml = replaceAll(yaml, "\"${SLUICE_MESH_STATE}/ca\"", dir_.path() + "/ca");
  yaml = replaceAll(yaml, "[\"${SLUICE_MESH_STATE}/token.key\"]", "[" + key_ + "]");
  yaml_ = yaml;
  control_ = std::make_unique<ControlDaemonProcess>(yaml_);
  ASSERT_TRUE(control_->start());
  dir_.write("ca-roots.pem", readFile(dir_.path() + "/ca/root.pem"));
  for (auto [name, sa] : std::vector<std::pair<std::string, std::string>>{{"edge", "edge"},
                                                                          {"frontend", "frontend"},
                                                                          {"backend-v1", "backend"},
                                                                          {"backend-v2", "backend"},
                                                                          {"stranger", "stranger"}})
    startProxy(name, sa);
  // Up means every proxy holds its own certificate and has bound every port
  // the mesh names for it. A proxy leaves out the listeners and clusters that
  // name its certificate until the CA has issued it (seconds under load, when
  // CreateCertificate is retried), and a call that goes to a backend replica
  // whose inbound is not bound yet fails with 503: one answer through the mesh
  // says nothing of the replica the next call goes to.
  std::string missing;
  ASSERT_TRUE(waitUntil(
      [&] {
        missing.clear();
        std::set<uint16_t> bound;
        for (const auto& [name, p] : proxies_) {
          const HttpResponse certs = p.process->get("/certs");
          if (certs.status != 200 ||
              certs.body.find("spiffe://demo.mesh/ns/default/sa/" + p.service_account) == std::string::npos)
            missing += " " + name + "'s certificate;";
          for (const auto& listener : p.process->listeners()) bound.insert(listener.second);
        }
        for (const auto& [example, picked] : ports_)
          if (example != "15010" && example != "15000" && example != "15012" && !bound.count(picked))
            missing += " a listener on " + example + ";";
        // Admin requests take turns with config and certificates on each
        // proxy's main thread: polled gently while those still come.
        if (!missing.empty()) std::this_thread::sleep_for(50ms);
        return missing.empty();
      },
      30s))
      << "the mesh never came up, missing:" << missing;
  ASSERT_TRUE(waitUntil([&] { return httpRequest(port("8080"), "GET", "/").status == 200; }, 15s))
      << "the edge never served /";
  ASSERT_TRUE(waitUntil([&] { return httpRequest(port("15301"), "GET", "/").status == 403; }, 10s))
      << "the stranger's outbound listener never answered 403";
}

void MeshDemo::startProxy(const std::string& name, const std::string& sa) {
  const CommandResult t =
      runCommand({SLUICE_CONTROL_BIN, "token", "--key", key_, "--namespace", "default", "--service-account", sa}, 10s);
  ASSERT_TRUE(exitedWith(t.status, 0)) << t.err;
  const std::string token = dir_.write("token-" + name, t.out);
  auto p = std::make_unique<ProxyProcess>(
      "admin: {address: 127.0.0.1:0}\nworkers: 1\ndrain_timeout: 2s\n"
      "dynamic:\n  ads:\n    address: " +
      control_->adsAddress() + "\n    node: {id: " + name + ".default, cluster: " + name + "}\n  ca:\n    address: " +
      control_->caAddress() + "\n    root_file: " + dir_.path() + "/ca-roots.pem\n    token_file: " + token + "\n");
  ASSERT_TRUE(p->start());
  proxies_[name] = Proxy{name, sa, std::move(p)};
}

void MeshDemo::setSplit(int v1, int v2) {
  std::string yaml =
      replaceAll(yaml_, "subset: {version: v1}, weight: 90", "subset: {version: v1}, weight: " + std::to_string(v1));
  yaml = replaceAll(yaml, "subset: {version: v2}, weight: 10", "subset: {version: v2}, weight: " + std::to_string(v2));
  control_->writeConfig(yaml);
}

::testing::AssertionResult MeshDemo::restartControl(const std::string& yaml) {
  const std::string ads = control_->adsAddress();
  if (!control_->signal(SIGKILL)) return ::testing::AssertionFailure() << "sluice-control was not running";
  control_->waitExit(5s);
  std::this_thread::sleep_for(500ms);  // the proxies see their control plane gone
  control_ = std::make_unique<ControlDaemonProcess>(
      replaceAll(yaml, "ads:\n  address: 127.0.0.1:0", "ads:\n  address: " + ads));
  return control_->start();
}

}  // namespace sluice::itest
