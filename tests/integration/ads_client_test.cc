// sluice as an ADS client, through the real binary against ads_server.js (an
// xDS server on @grpc/grpc-js, not sluice-control): resources arrive and
// serve, updates move traffic, bad resources are NACKed while the last good
// config keeps serving, a lost stream is reconnected and resubscribed, and a
// route to a cluster not yet received answers 503 NC until it comes.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/support/ads_server.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kHcm = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr const char* kRouter = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

json listener(const std::string& name, const std::string& route_config) {
  return {{"@type", "type.googleapis.com/envoy.config.listener.v3.Listener"},
          {"name", name},
          {"address", {{"socket_address", {{"address", "127.0.0.1"}, {"port_value", 0}}}}},
          {"filter_chains",
           json::array({{{"filters",
                          json::array({{{"name", "envoy.filters.network.http_connection_manager"},
                                        {"typed_config",
                                         {{"@type", kHcm},
                                          {"stat_prefix", name},
                                          {"rds", {{"route_config_name", route_config}, {"config_source", {{"ads", json::object()}}}}},
                                          {"http_filters", json::array({{{"name", "envoy.filters.http.router"},
                                                                          {"typed_config", {{"@type", kRouter}}}}})}}}}})}}})}};
}

json routeConfig(const std::string& name, const std::string& cluster) {
  return {{"@type", "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"},
          {"name", name},
          {"virtual_hosts", json::array({{{"name", "all"},
                                          {"domains", json::array({"*"})},
                                          {"routes", json::array({{{"match", {{"prefix", "/"}}},
                                                                   {"route", {{"cluster", cluster}}}}})}}})}};
}

json edsCluster(const std::string& name, const std::string& type = "EDS") {
  json c = {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
            {"name", name},
            {"type", type},
            {"connect_timeout", {{"seconds", 1}}}};
  if (type == "EDS") c["eds_cluster_config"] = {{"eds_config", {{"ads", json::object()}}}};
  return c;
}

json endpoints(const std::string& cluster, const std::vector<uint16_t>& ports) {
  json lb = json::array();
  for (auto p : ports)
    lb.push_back({{"endpoint", {{"address", {{"socket_address", {{"address", "127.0.0.1"}, {"port_value", p}}}}}}}});
  return {{"@type", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
          {"cluster_name", cluster},
          {"endpoints", json::array({{{"lb_endpoints", lb}}})}};
}

std::string bootstrap(uint16_t ads_port, const std::string& extra = "") {
  return "admin:\n  address: 127.0.0.1:0\nworkers: 1\ndrain_timeout: 1s\n"
         "dynamic:\n  ads:\n    address: 127.0.0.1:" +
         std::to_string(ads_port) +
         "\n    node: {id: test-1, cluster: edge, locality: {region: r1, zone: z1}}\n"
         "    initial_fetch_timeout: 5s\n" +
         extra;
}

// GETs / on the listener until the body is `want` (bounded).
::testing::AssertionResult waitBody(uint16_t port, const std::string& want, Millis timeout, HttpResponse* last = nullptr) {
  HttpResponse r;
  const bool ok = waitUntil(
      [&] {
        r = httpRequest(port, "GET", "/", 1000ms);
        return r.ok() && r.body == want;
      },
      timeout);
  if (last) *last = r;
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "last answer: " << r.status << " '" << r.body << "' " << r.error;
}

// The ADS server, two upstreams, and a proxy subscribed to all four types.
class AdsClient : public ::testing::Test {
 protected:
  virtual std::string bootstrapExtra() const { return ""; }
  void SetUp() override {
    ASSERT_TRUE(ads_.start());
    ASSERT_TRUE(ads_.set("Cluster", "c1", json::array({edsCluster("web")})));
    ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e1", json::array({endpoints("web", {a_.port()})})));
    ASSERT_TRUE(ads_.set("Listener", "l1", json::array({listener("ingress", "routes")})));
    ASSERT_TRUE(ads_.set("RouteConfiguration", "r1", json::array({routeConfig("routes", "web")})));
    proxy_ = std::make_unique<ProxyProcess>(bootstrap(ads_.port(), bootstrapExtra()));
    ASSERT_TRUE(proxy_->start());
    auto port = proxy_->waitListener("ingress", 10000ms);
    ASSERT_TRUE(port) << proxy_->stderrText();
    port_ = *port;
  }

  // The set-up's resources are served, and each type's first version ACKed.
  void expectServedAndAcked() {
    EXPECT_TRUE(waitBody(port_, "a\n", 5000ms));
    for (auto [type, version] : {std::pair{"Cluster", "c1"}, {"ClusterLoadAssignment", "e1"}, {"Listener", "l1"},
                                 {"RouteConfiguration", "r1"}})
      EXPECT_TRUE(ads_.waitAck(type, version)) << type;
  }

  AdsServerProcess ads_;
  ControlledUpstream a_{"a"};
  ControlledUpstream b_{"b"};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(AdsClient, ServesWhatArrivesAndAcksEveryType) {
  expectServedAndAcked();
  // The node, with its locality, came in the stream's first request.
  const auto reqs = ads_.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.front().node.value("id", ""), "test-1");
  EXPECT_EQ(reqs.front().node["locality"].value("zone", ""), "z1");
  // Named subscriptions follow what the listener and cluster name.
  EXPECT_TRUE(ads_.waitRequest(
      [](const AdsRequest& r) {
        return r.shortType() == "RouteConfiguration" && r.resource_names == std::vector<std::string>{"routes"};
      },
      "subscribing to route config 'routes'"));
  // /config_dump: each resource with its type, version and origin.
  auto dump = json::parse(proxy_->get("/config_dump").body, nullptr, false);
  ASSERT_TRUE(dump.is_object());
  bool found = false;
  for (const auto& r : dump["resources"])
    if (r["name"] == "web" && r["type"] == "Cluster") {
      found = true;
      EXPECT_EQ(r["version"], "c1");
      EXPECT_EQ(r["origin"], "xds");
    }
  EXPECT_TRUE(found) << dump["resources"].dump();
  EXPECT_EQ(dump["xds"]["types"]["Listener"]["version"], "l1");
}

TEST_F(AdsClient, EndpointChangeMovesTrafficWithinASecond) {
  ASSERT_TRUE(waitBody(port_, "a\n", 5000ms));
  const auto t0 = Clock::now();
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e2", json::array({endpoints("web", {b_.port()})})));
  EXPECT_TRUE(waitBody(port_, "b\n", 1000ms));
  EXPECT_LT(msSince(t0), 1500);
  EXPECT_TRUE(ads_.waitAck("ClusterLoadAssignment", "e2"));
}

TEST_F(AdsClient, BadClusterIsNackedAndTheLastGoodConfigServes) {
  ASSERT_TRUE(waitBody(port_, "a\n", 5000ms));
  ASSERT_TRUE(ads_.waitAck("Cluster", "c1"));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_resources", {{"type", "Cluster"}}, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_updates_rejected_total", {{"type", "Cluster"}}, 0));
  const auto accepted = proxy_->metric("sluice_xds_updates_accepted_total", {{"type", "Cluster"}});
  ASSERT_TRUE(accepted);
  EXPECT_GE(*accepted, 1);
  ASSERT_TRUE(ads_.set("Cluster", "c2", json::array({edsCluster("web", "STRICT_DNS")})));
  AdsRequest nack;
  ASSERT_TRUE(ads_.waitNack("Cluster", &nack));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_updates_rejected_total", {{"type", "Cluster"}}, 1));
  EXPECT_EQ(proxy_->metric("sluice_xds_updates_accepted_total", {{"type", "Cluster"}}), accepted);
  EXPECT_EQ(proxy_->metric("sluice_xds_resources", {{"type", "Cluster"}}), 1);
  EXPECT_EQ(nack.version_info, "c1");  // the last accepted version
  EXPECT_EQ(nack.error_code, 3);       // INVALID_ARGUMENT
  EXPECT_NE(nack.error.find("web"), std::string::npos) << nack.error;
  EXPECT_NE(nack.error.find("type"), std::string::npos) << nack.error;
  EXPECT_NE(nack.error.find("STRICT_DNS"), std::string::npos) << nack.error;
  // Still served by the previous config.
  EXPECT_TRUE(waitBody(port_, "a\n", 1000ms));
  auto dump = json::parse(proxy_->get("/config_dump").body, nullptr, false);
  ASSERT_TRUE(dump.is_object());
  const auto& last = dump["xds"]["types"]["Cluster"]["last_nack"];
  EXPECT_EQ(last.value("version", ""), "c2") << dump["xds"].dump();
  EXPECT_NE(last.value("error", "").find("STRICT_DNS"), std::string::npos);
  EXPECT_FALSE(last.value("time", "").empty());
  EXPECT_EQ(dump["xds"]["types"]["Cluster"]["version"], "c1");

  // A good version after the bad one is taken.
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e2", json::array({endpoints("web", {b_.port()})})));
  ASSERT_TRUE(ads_.set("Cluster", "c3", json::array({edsCluster("web")})));
  EXPECT_TRUE(ads_.waitAck("Cluster", "c3"));
  EXPECT_TRUE(waitBody(port_, "b\n", 2000ms));
}

TEST_F(AdsClient, BadListenerIsNackedNamingTheFilter) {
  ASSERT_TRUE(waitBody(port_, "a\n", 5000ms));
  // The router, an HTTP filter, where a network filter belongs.
  json bad = listener("ingress", "routes");
  bad["filter_chains"][0]["filters"][0] = {{"name", "not-a-network-filter"}, {"typed_config", {{"@type", kRouter}}}};
  ASSERT_TRUE(ads_.set("Listener", "l2", json::array({bad})));
  AdsRequest nack;
  ASSERT_TRUE(ads_.waitNack("Listener", &nack));
  EXPECT_EQ(nack.version_info, "l1");
  EXPECT_NE(nack.error.find("ingress"), std::string::npos) << nack.error;
  EXPECT_NE(nack.error.find("filters[0]"), std::string::npos) << nack.error;
  EXPECT_TRUE(waitBody(port_, "a\n", 1000ms));
}

TEST_F(AdsClient, ReconnectsAndResubscribesAfterTheServerDies) {
  ASSERT_TRUE(waitBody(port_, "a\n", 5000ms));
  ASSERT_TRUE(ads_.waitAck("ClusterLoadAssignment", "e1"));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_stream_reconnects_total", {}, 0));
  ads_.stop();
  // Serving goes on without a control plane.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(waitBody(port_, "a\n", 1000ms));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 0));
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_xds_stream_reconnects_total", {}, 1));
  const size_t before = ads_.requests().size();
  ASSERT_TRUE(ads_.start());  // same port, empty state
  // The client comes back (backoff: 0.5 s doubling, ±50%) with what it accepted.
  AdsRequest resub;
  ASSERT_TRUE(ads_.waitRequest(
      [&](const AdsRequest& r) { return r.shortType() == "Cluster" && r.version_info == "c1" && r.response_nonce.empty(); },
      "resubscribing to Cluster with version c1", 10000ms, &resub));
  EXPECT_GT(ads_.requests().size(), before);
  ASSERT_TRUE(ads_.set("Cluster", "c1", json::array({edsCluster("web")})));
  ASSERT_TRUE(ads_.set("Listener", "l1", json::array({listener("ingress", "routes")})));
  ASSERT_TRUE(ads_.set("RouteConfiguration", "r1", json::array({routeConfig("routes", "web")})));
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e3", json::array({endpoints("web", {b_.port()})})));
  EXPECT_TRUE(waitBody(port_, "b\n", 5000ms));
  EXPECT_TRUE(ads_.waitAck("ClusterLoadAssignment", "e3"));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 1));
}

TEST_F(AdsClient, RouteToAClusterNotYetReceivedAnswers503NcUntilItArrives) {
  ASSERT_TRUE(waitBody(port_, "a\n", 5000ms));
  ASSERT_TRUE(ads_.set("RouteConfiguration", "r2", json::array({routeConfig("routes", "later")})));
  ASSERT_TRUE(ads_.waitAck("RouteConfiguration", "r2"));
  HttpResponse r = httpRequest(port_, "GET", "/", 2000ms);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "cluster_not_found\n");  // the NC flag's details
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e2",
                       json::array({endpoints("web", {a_.port()}), endpoints("later", {b_.port()})})));
  ASSERT_TRUE(ads_.set("Cluster", "c2", json::array({edsCluster("web"), edsCluster("later")})));
  EXPECT_TRUE(waitBody(port_, "b\n", 5000ms));
}

// The same over incremental (delta) xDS.
class AdsClientDelta : public AdsClient {
 protected:
  std::string bootstrapExtra() const override { return "    delta: true\n"; }
};

TEST_F(AdsClientDelta, ServesUpdatesNacksAndKeepsTheLastGoodConfig) {
  expectServedAndAcked();
  const auto reqs = ads_.requests();
  ASSERT_FALSE(reqs.empty());
  for (const auto& r : reqs) EXPECT_TRUE(r.delta);
  EXPECT_EQ(reqs[0].node.value("id", ""), "test-1");
  bool wildcard = false, by_name = false;
  for (const auto& r : reqs) {
    if (r.shortType() == "Listener" && r.resource_names == std::vector<std::string>{"*"}) wildcard = true;
    if (r.shortType() == "RouteConfiguration" && r.resource_names == std::vector<std::string>{"routes"}) by_name = true;
  }
  EXPECT_TRUE(wildcard);
  EXPECT_TRUE(by_name);

  // An endpoint update alone moves traffic.
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e2", json::array({endpoints("web", {b_.port()})})));
  EXPECT_TRUE(waitBody(port_, "b\n", 2000ms));
  EXPECT_TRUE(ads_.waitAck("ClusterLoadAssignment", "e2"));

  // A bad cluster: NACKed, counted, and the last good config serves.
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_updates_rejected_total", {{"type", "Cluster"}}, 0));
  ASSERT_TRUE(ads_.set("Cluster", "c2", json::array({edsCluster("web", "STRICT_DNS")})));
  AdsRequest nack;
  ASSERT_TRUE(ads_.waitNack("Cluster", &nack));
  EXPECT_EQ(nack.version_info, "c2");  // the nonce answered is c2's
  EXPECT_EQ(nack.error_code, 3);
  EXPECT_NE(nack.error.find("STRICT_DNS"), std::string::npos) << nack.error;
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_updates_rejected_total", {{"type", "Cluster"}}, 1));
  EXPECT_TRUE(waitBody(port_, "b\n", 1000ms));
  // A second cluster and a route to it: added beside the first one.
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e3",
                       json::array({endpoints("web", {b_.port()}), endpoints("other", {a_.port()})})));
  ASSERT_TRUE(ads_.set("Cluster", "c3", json::array({edsCluster("web"), edsCluster("other")})));
  ASSERT_TRUE(ads_.waitAck("Cluster", "c3"));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_resources", {{"type", "Cluster"}}, 2));
  ASSERT_TRUE(ads_.set("RouteConfiguration", "r2", json::array({routeConfig("routes", "other")})));
  EXPECT_TRUE(waitBody(port_, "a\n", 2000ms));
  // `web` removed: the client drops it and unsubscribes its endpoints.
  ASSERT_TRUE(ads_.set("Cluster", "c4", json::array({edsCluster("other")})));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_resources", {{"type", "Cluster"}}, 1));
  EXPECT_TRUE(ads_.waitRequest(
      [](const AdsRequest& r) {
        return r.shortType() == "ClusterLoadAssignment" && r.unsubscribe == std::vector<std::string>{"web"};
      },
      "unsubscribing the endpoints of web", 5000ms));
  EXPECT_TRUE(waitBody(port_, "a\n", 1000ms));
}

TEST_F(AdsClientDelta, ResumesWithInitialResourceVersionsAfterTheServerDies) {
  ASSERT_TRUE(waitBody(port_, "a\n", 5000ms));
  ASSERT_TRUE(ads_.waitAck("ClusterLoadAssignment", "e1"));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 1));
  ads_.stop();
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 0));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(waitBody(port_, "a\n", 1000ms));
  // Same resources as before the restart: a resuming server sends nothing for them.
  ASSERT_TRUE(ads_.start());
  ASSERT_TRUE(ads_.set("Cluster", "c1", json::array({edsCluster("web")})));
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e1", json::array({endpoints("web", {a_.port()})})));
  ASSERT_TRUE(ads_.set("Listener", "l1", json::array({listener("ingress", "routes")})));
  ASSERT_TRUE(ads_.set("RouteConfiguration", "r1", json::array({routeConfig("routes", "web")})));
  AdsRequest resub;
  ASSERT_TRUE(ads_.waitRequest(
      [](const AdsRequest& r) {
        return r.shortType() == "ClusterLoadAssignment" && r.response_nonce.empty() &&
               r.initial_resource_versions.count("web") == 1;
      },
      "resuming ClusterLoadAssignment with the version of web", 10000ms, &resub));
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_xds_stream_reconnects_total", {}, 1));
  ASSERT_TRUE(ads_.set("ClusterLoadAssignment", "e2", json::array({endpoints("web", {b_.port()})})));
  EXPECT_TRUE(waitBody(port_, "b\n", 5000ms));
  EXPECT_TRUE(ads_.waitAck("ClusterLoadAssignment", "e2"));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_xds_connected", {}, 1));
}

TEST(AdsBootstrap, ErrorsNameFileLineAndColumn) {
  TempDir dir;
  const std::string path = dir.write("bootstrap.yaml",
                                     "admin:\n  address: 127.0.0.1:0\n"
                                     "node: {id: a}\n"
                                     "dynamic:\n  ads:\n    address: 127.0.0.1\n"
                                     "    node: {id: b}\n"
                                     "    initial_fetch_timeout: 0s\n"
                                     "    retries: 3\n"
                                     "    delta: yes please\n");
  const auto r = runSluice({"validate", "-c", path});
  ASSERT_TRUE(r.status);
  EXPECT_TRUE(exitedWith(r.status, 1)) << r.err;
  EXPECT_NE(r.err.find(path + ":6:14: dynamic.ads.address"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":7:11: dynamic.ads.node.id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":8:28: dynamic.ads.initial_fetch_timeout"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":9:5: dynamic.ads: unknown field 'retries'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":10:12: dynamic.ads.delta"), std::string::npos) << r.err;
}

TEST(AdsBootstrap, ShippedExampleValidates) {
  const auto r = runSluice({"validate", "-c", repoRoot() + "/config/examples/xds/bootstrap.yaml"});
  ASSERT_TRUE(r.status);
  EXPECT_TRUE(exitedWith(r.status, 0)) << r.err;
}

}  // namespace
}  // namespace sluice::itest
