// The real sluice-control binary over ADS, seen on the wire by an
// independent client (tests/integration/support/xds_client.js: Node's
// @grpc/grpc-js with the Envoy protos loaded by @grpc/proto-loader).
// State of the world: first responses and ACKs, an edit of control.yaml
// pushing only the type it changed, a NACK shown by `sluice-control status`
// and /metrics and not answered by a resend, a stale nonce ignored, a
// proxyless client's on-demand listener. Delta: per-resource versions, an
// edit sending only the resource it changed, a removal, and a reconnecting
// client resuming from the versions it holds.

#include <gtest/gtest.h>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <string>
#include <thread>

#include "tests/integration/support/command.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/xds_client.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kCds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const std::string kEds = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
const std::string kLds = "type.googleapis.com/envoy.config.listener.v3.Listener";
const std::string kRds = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
constexpr auto kQuiet = 1000ms;  // longer than the daemon's debounce and watch interval

// Two groups: "edge" (a listener with its routes inline, a cluster with
// endpoints on `backend_port`) and "grpc" (no listener: route tables for
// proxyless clients).
std::string controlYaml(int backend_port, bool with_spare = false) {
  return R"(ads:
  address: 127.0.0.1:0
admin:
  address: 127.0.0.1:0
debounce: 50ms
watch_interval: 50ms
groups:
  - name: edge
    match: {cluster: edge}
    listeners:
      - name: web
        address: 127.0.0.1:10000
        http:
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - match: {prefix: /}
                    route: {cluster: backend}
    clusters:
      - name: backend
        connect_timeout: 1s
        endpoints:
          - address: 127.0.0.1:)" +
         std::to_string(backend_port) + (with_spare ? R"(
      - name: spare
        connect_timeout: 1s
        endpoints:
          - address: 127.0.0.1:18093)"
                                                    : "") +
         R"(
  - name: grpc
    match: {cluster: grpc}
    route_configs:
      - name: echo
        virtual_hosts:
          - name: echo
            domains: [echo]
            routes:
              - match: {prefix: /}
                route: {cluster: echo}
    clusters:
      - name: echo
        connect_timeout: 1s
        protocol: http2
        endpoints:
          - address: 127.0.0.1:18090
)";
}

json request(const std::string& type, const std::string& cluster, std::vector<std::string> names = {}) {
  return {{"type_url", type}, {"node", {{"id", cluster + "-1"}, {"cluster", cluster}}}, {"resource_names", names}};
}

json ack(const json& response, std::vector<std::string> names = {}) {
  return {{"type_url", response["type_url"]},
          {"version_info", response["version_info"]},
          {"response_nonce", response["nonce"]},
          {"resource_names", names}};
}

class ControlAds : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      bool exited = false;
      for (int i = 0; i < 250 && !exited; ++i) {
        exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (!exited) std::this_thread::sleep_for(20ms);
      }
      if (!exited) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
      EXPECT_TRUE(exited) << "sluice-control did not stop on SIGTERM within 5 s";
    }
    if (HasFailure()) std::fprintf(stderr, "sluice-control stderr:\n%s\n", readFile(dir_.path() + "/err").c_str());
  }

  ::testing::AssertionResult start(const std::string& yaml) {
    config_ = dir_.write("control.yaml", yaml);
    const std::string addresses = dir_.path() + "/addresses";
    pid_ = spawnCommand({SLUICE_CONTROL_BIN, "-c", config_, "--address-path", addresses}, dir_.path() + "/out",
                        dir_.path() + "/err");
    if (pid_ < 0) return ::testing::AssertionFailure() << "cannot start " << SLUICE_CONTROL_BIN;
    for (int i = 0; i < 500; ++i) {
      const std::string text = readFile(addresses);
      const auto ads = text.find("ads 127.0.0.1:");
      const auto admin = text.find("admin 127.0.0.1:");
      if (ads != std::string::npos && admin != std::string::npos && text.back() == '\n') {
        ads_port_ = std::stoi(text.substr(ads + 14));
        admin_ = "127.0.0.1:" + std::to_string(std::stoi(text.substr(admin + 16)));
        return ::testing::AssertionSuccess();
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return ::testing::AssertionFailure() << "sluice-control exited: " << readFile(dir_.path() + "/err");
      }
      std::this_thread::sleep_for(20ms);
    }
    return ::testing::AssertionFailure() << "sluice-control wrote no addresses within 10 s";
  }

  // Replaces control.yaml the way an editor saving atomically does.
  void edit(const std::string& yaml) {
    const std::string tmp = dir_.write("control.yaml.tmp", yaml);
    ASSERT_EQ(::rename(tmp.c_str(), config_.c_str()), 0);
  }

  std::unique_ptr<XdsClientProcess> client(const std::string& mode = "sotw") {
    auto c = std::make_unique<XdsClientProcess>(ads_port_, mode);
    EXPECT_TRUE(c->ok()) << c->error();
    return c;
  }

  TempDir dir_;
  std::string config_;
  pid_t pid_ = -1;
  int ads_port_ = 0;
  std::string admin_;
};

TEST_F(ControlAds, SotwEditPushesOnlyTheChangedTypeAndNackIsNotResent) {
  ASSERT_TRUE(start(controlYaml(18091)));
  auto c = client();
  ASSERT_TRUE(c->ok());
  c->send(request(kCds, "edge"));
  const auto cds = c->next(20s);  // Node's start-up and proto loading are in this one
  ASSERT_EQ(cds.value("type_url", ""), kCds) << cds.dump();
  EXPECT_EQ(cds["names"], json({"backend"}));
  EXPECT_TRUE(cds["typed"].get<bool>());
  EXPECT_FALSE(cds["version_info"].get<std::string>().empty());
  c->send(ack(cds));
  c->send(request(kEds, "edge", {"backend"}));
  auto eds = c->next();
  ASSERT_EQ(eds.value("type_url", ""), kEds) << eds.dump();
  EXPECT_EQ(eds["names"], json({"backend"}));
  c->send(ack(eds, {"backend"}));
  c->send(request(kLds, "edge"));
  const auto lds = c->next();
  ASSERT_EQ(lds.value("type_url", ""), kLds) << lds.dump();
  EXPECT_EQ(lds["names"], json({"web"}));
  c->send(ack(lds));
  const auto quiet = c->next(kQuiet);
  EXPECT_TRUE(quiet.contains("timeout")) << "ACKs get no reply: " << quiet.dump();

  // An endpoint moves: only the endpoints are pushed.
  edit(controlYaml(18092));
  const auto eds2 = c->next(10s);
  ASSERT_EQ(eds2.value("type_url", ""), kEds) << eds2.dump();
  EXPECT_NE(eds2["version_info"], eds["version_info"]);
  EXPECT_EQ(eds2["names"], json({"backend"}));
  const auto more = c->next(kQuiet);
  EXPECT_TRUE(more.contains("timeout")) << "only the endpoints changed: " << more.dump();

  // The old EDS nonce is stale now: no reply, even with a new name.
  c->send(ack(eds, {"backend", "other"}));
  const auto stale = c->next(kQuiet);
  EXPECT_TRUE(stale.contains("timeout")) << "a stale nonce gets no reply: " << stale.dump();

  // NACK the new endpoints: no resend; status and metrics show it.
  json nack = ack(eds2, {"backend"});
  nack["version_info"] = eds["version_info"];
  nack["error_detail"] = {{"code", 3}, {"message", "endpoint 127.0.0.1:18092 refused"}};
  c->send(nack);
  const auto after = c->next(kQuiet);
  EXPECT_TRUE(after.contains("timeout")) << "a NACKed version is not sent again: " << after.dump();
  const auto status = runCommand({SLUICE_CONTROL_BIN, "status", "--admin", admin_}, Millis(10000));
  ASSERT_TRUE(status.status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status.status), 0) << status.err;
  EXPECT_NE(status.out.find("NACKED"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("edge-1"), std::string::npos) << status.out;
  const auto metrics = curl({"http://" + admin_ + "/metrics"});
  ASSERT_TRUE(metrics.ok()) << metrics.describe();
  EXPECT_NE(metrics.body.find("sluice_control_nacks_total{type=\"ClusterLoadAssignment\"} 1"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("sluice_control_proxies_connected 1"), std::string::npos) << metrics.body;
}

TEST_F(ControlAds, SotwProxylessClientGetsAnOnDemandListener) {
  ASSERT_TRUE(start(controlYaml(18091)));
  auto c = client();
  ASSERT_TRUE(c->ok());
  // gRPC's own order: LDS for the target, then its route table, cluster, endpoints.
  c->send(request(kLds, "grpc", {"echo:50051"}));
  const auto lds = c->next(20s);
  ASSERT_EQ(lds.value("type_url", ""), kLds) << lds.dump();
  EXPECT_EQ(lds["names"], json({"echo:50051"}));
  EXPECT_TRUE(lds["typed"].get<bool>());
  c->send(ack(lds, {"echo:50051"}));
  c->send(request(kRds, "grpc", {"echo"}));
  const auto rds = c->next();
  ASSERT_EQ(rds.value("type_url", ""), kRds) << rds.dump();
  EXPECT_EQ(rds["names"], json({"echo"}));
  c->send(request(kCds, "grpc", {"echo"}));
  const auto cds = c->next();
  ASSERT_EQ(cds.value("type_url", ""), kCds) << cds.dump();
  EXPECT_EQ(cds["names"], json({"echo"}));
  // A name no route table serves: an empty answer, not an error.
  c->send(ack(lds, {"nothing-here"}));
  const auto none = c->next();
  ASSERT_EQ(none.value("type_url", ""), kLds) << none.dump();
  EXPECT_EQ(none["names"], json::array());
}

json deltaRequest(const std::string& type, std::vector<std::string> subscribe = {}) {
  return {{"type_url", type}, {"node", {{"id", "edge-d"}, {"cluster", "edge"}}}, {"resource_names_subscribe", subscribe}};
}

json deltaAck(const json& response) { return {{"type_url", response["type_url"]}, {"response_nonce", response["nonce"]}}; }

TEST_F(ControlAds, DeltaVersionsEditsRemovalsAndResume) {
  ASSERT_TRUE(start(controlYaml(18091, /*with_spare=*/true)));
  json held;  // name -> version of the clusters, as the first client holds them
  {
    auto c = client("delta");
    ASSERT_TRUE(c->ok());
    c->send(deltaRequest(kCds));  // no names: wildcard
    const auto cds = c->next(20s);
    ASSERT_EQ(cds.value("type_url", ""), kCds) << cds.dump();
    ASSERT_TRUE(cds["resources"].contains("backend")) << cds.dump();
    ASSERT_TRUE(cds["resources"].contains("spare")) << cds.dump();
    EXPECT_TRUE(cds["typed"].get<bool>());
    EXPECT_FALSE(cds["system_version_info"].get<std::string>().empty());
    c->send(deltaAck(cds));
    c->send(deltaRequest(kEds, {"backend"}));
    const auto eds = c->next();
    ASSERT_EQ(eds.value("type_url", ""), kEds) << eds.dump();
    EXPECT_EQ(eds["resources"].size(), 1u) << eds.dump();
    ASSERT_TRUE(eds["resources"].contains("backend")) << eds.dump();
    c->send(deltaAck(eds));

    // The spare cluster goes: a removal, and nothing else.
    edit(controlYaml(18091, /*with_spare=*/false));
    const auto removal = c->next(10s);
    ASSERT_EQ(removal.value("type_url", ""), kCds) << removal.dump();
    EXPECT_EQ(removal["removed"], json({"spare"}));
    EXPECT_TRUE(removal["resources"].empty()) << "backend did not change: " << removal.dump();
    c->send(deltaAck(removal));
    const auto quiet = c->next(kQuiet);
    EXPECT_TRUE(quiet.contains("timeout")) << quiet.dump();
    held = {{"backend", cds["resources"]["backend"]}, {"spare", cds["resources"]["spare"]}};
  }

  // A new client that says it holds the old set resumes: the spare
  // cluster is removed, the unchanged backend not sent again.
  auto c = client("delta");
  ASSERT_TRUE(c->ok());
  json resume = deltaRequest(kCds);
  resume["initial_resource_versions"] = held;
  c->send(resume);
  const auto cds = c->next(20s);
  ASSERT_EQ(cds.value("type_url", ""), kCds) << cds.dump();
  EXPECT_TRUE(cds["resources"].empty()) << cds.dump();
  EXPECT_EQ(cds["removed"], json({"spare"}));
}

}  // namespace
}  // namespace sluice::itest
