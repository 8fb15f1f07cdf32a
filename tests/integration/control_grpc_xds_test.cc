// Proxyless gRPC through sluice-control, with two independent xDS clients:
// @grpc/grpc-js-xds on Node and gRPC C++ (its core has the xDS resolver).
// Each resolves xds:///echo with the daemon (LDS made on demand for "echo",
// then RDS, CDS, EDS) and calls Node gRPC servers that answer with their
// name: the example's grpc group, a weighted split between two servers, and
// an endpoint moved by editing control.yaml under a client that keeps
// calling, without one call failing.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/node_upstream.h"
#include "tests/integration/support/proxy_process.h"

#ifndef SLUICE_GRPC_XDS_CLIENT_BIN
#error "SLUICE_GRPC_XDS_CLIENT_BIN must name the gRPC C++ xDS client"
#endif

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The bootstrap a proxyless client reads from GRPC_XDS_BOOTSTRAP.
std::string bootstrap(const std::string& ads, const std::string& node_id) {
  return json{{"xds_servers", {{{"server_uri", ads}, {"channel_creds", {{{"type", "insecure"}}}}, {"server_features", json::array()}}}},
              {"node", {{"id", node_id}, {"cluster", "grpc"}, {"locality", {{"region", "r1"}, {"zone", "z1"}}}}}}
      .dump();
}

// The two clients take the same arguments and print the same JSON lines.
enum class Client { GrpcJs, GrpcCxx };

std::vector<std::string> proxylessClient(Client client, const std::string& bootstrap_path,
                                         const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (client == Client::GrpcJs) {
    argv = nodeScript("daemon_grpc_proxyless.js");
    argv.insert(argv.begin() + 1, "GRPC_XDS_BOOTSTRAP=" + bootstrap_path);  // after `env`
  } else {
    argv = {"env", "GRPC_XDS_BOOTSTRAP=" + bootstrap_path, SLUICE_GRPC_XDS_CLIENT_BIN};
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

json lastJsonLine(const std::string& out) {
  const size_t end = out.find_last_not_of('\n');
  if (end == std::string::npos) return json();
  const size_t start = out.rfind('\n', end);
  return json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1), nullptr, false);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "'";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class ControlGrpcXdsTest : public ::testing::TestWithParam<Client> {
 protected:
  std::vector<std::string> clientArgv(const std::string& bootstrap_path, const std::vector<std::string>& args) const {
    return proxylessClient(GetParam(), bootstrap_path, args);
  }

  void SetUp() override {
    ASSERT_TRUE(haveGrpcNodeDeps());
    ASSERT_TRUE(a_.start());
    ASSERT_TRUE(b_.start());
  }
  NodeUpstream a_{"daemon_grpc_echo.js", {"a"}};
  NodeUpstream b_{"daemon_grpc_echo.js", {"b"}};
  TempDir dir_;
};

TEST_P(ControlGrpcXdsTest, TheExamplesGrpcGroupServesAProxylessClient) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(replaced(yaml, "- address: 127.0.0.1:18090", "- address: " + a_.address()));
  ASSERT_TRUE(daemon.start());
  const std::string boot = dir_.write("bootstrap.json", bootstrap(daemon.adsAddress(), "grpc-1"));
  const CommandResult r = runCommand(clientArgv(boot, {"count", "xds:///echo", "20"}), 30s);
  ASSERT_TRUE(exitedWith(r.status, 0)) << r.out << r.err;
  const json out = lastJsonLine(r.out);
  EXPECT_EQ(out["ok"], 20) << r.out << r.err;
  EXPECT_EQ(out["by_server"], json({{"a", 20}})) << r.out;
  // The client asked for every type and ACKed each: nothing was NACKed.
  for (const char* type : {"Listener", "RouteConfiguration", "Cluster", "ClusterLoadAssignment"}) {
    EXPECT_EQ(daemon.metric("sluice_control_nacks_total", {{"type", type}}), 0) << type;
    EXPECT_GE(daemon.metric("sluice_control_pushes_total", {{"type", type}}).value_or(0), 1) << type;
  }
}

TEST_P(ControlGrpcXdsTest, AWeightedSplitSendsCallsToBothServersByWeight) {
  const std::string yaml = R"(ads: {address: 127.0.0.1:0}
admin: {address: 127.0.0.1:0}
groups:
  - name: grpc
    match: {cluster: grpc}
    route_configs:
      - name: echo
        virtual_hosts:
          - name: echo
            domains: [echo]
            routes:
              - match: {prefix: /}
                route:
                  weighted_clusters:
                    - {name: echo-a, weight: 3}
                    - {name: echo-b, weight: 1}
    clusters:
      - name: echo-a
        protocol: http2
        endpoints:
          - address: )" + a_.address() + R"(
      - name: echo-b
        protocol: http2
        endpoints:
          - address: )" + b_.address() + "\n";
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  const std::string boot = dir_.write("bootstrap.json", bootstrap(daemon.adsAddress(), "grpc-split"));
  const CommandResult r = runCommand(clientArgv(boot, {"count", "xds:///echo", "400"}), 60s);
  ASSERT_TRUE(exitedWith(r.status, 0)) << r.out << r.err;
  const json out = lastJsonLine(r.out);
  ASSERT_EQ(out["ok"], 400) << r.out << r.err;
  const int to_a = out["by_server"].value("a", 0), to_b = out["by_server"].value("b", 0);
  EXPECT_EQ(to_a + to_b, 400) << r.out;
  RecordProperty("calls_to_b", to_b);
  // 3:1 is 300:100; a binomial(400, 0.25) falls outside 60..140 with a
  // probability below 1e-6.
  EXPECT_GE(to_b, 60) << r.out;
  EXPECT_LE(to_b, 140) << r.out;
}

TEST_P(ControlGrpcXdsTest, AnEndpointMovedInControlYamlReachesARunningClient) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  const std::string on_a = replaced(yaml, "- address: 127.0.0.1:18090", "- address: " + a_.address());
  ControlDaemonProcess daemon(on_a);
  ASSERT_TRUE(daemon.start());
  const std::string boot = dir_.write("bootstrap.json", bootstrap(daemon.adsAddress(), "grpc-move"));
  const std::string out_path = dir_.path() + "/client.out", err_path = dir_.path() + "/client.err";
  const pid_t client = spawnCommand(clientArgv(boot, {"until", "xds:///echo", "b", "20000"}), out_path, err_path);
  ASSERT_GT(client, 0);
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  } reap{client};
  // Calls reach a first; then the edit, with the client still calling.
  ASSERT_TRUE(waitUntil([&] { return readFile(out_path).find("{\"first\":\"a\"}") != std::string::npos; }, 15000ms))
      << readFile(out_path) << readFile(err_path);
  daemon.writeConfig(replaced(yaml, "- address: 127.0.0.1:18090", "- address: " + b_.address()));
  const auto written = Clock::now();
  ASSERT_TRUE(waitUntil([&] { return readFile(out_path).find("\"reached\"") != std::string::npos; }, 10000ms))
      << readFile(out_path) << readFile(err_path);
  const long long took = msSince(written);
  RecordProperty("moved_after_ms", std::to_string(took));
  const json done = lastJsonLine(readFile(out_path));
  EXPECT_EQ(done["reached"], true) << readFile(out_path);
  EXPECT_EQ(done["failed"], 0) << readFile(out_path);
  EXPECT_LT(took, 2000) << "the moved endpoint took " << took << " ms to reach the client";
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_config_reloads_total", {}, 1));
}

INSTANTIATE_TEST_SUITE_P(, ControlGrpcXdsTest, ::testing::Values(Client::GrpcJs, Client::GrpcCxx),
                         [](const ::testing::TestParamInfo<Client>& info) {
                           return std::string(info.param == Client::GrpcJs ? "GrpcJs" : "GrpcCxx");
                         });

}  // namespace
}  // namespace sluice::itest
