// /status's JSON and the table `sluice-control status` prints from it.

#include "control/status_report.h"

#include <gtest/gtest.h>

#include "xds/type_urls.h"

namespace sluice::control {
namespace {

using State = ProxyStatus::PerType::State;

DaemonStatus sample() {
  DaemonStatus s;
  s.config_file = "control.yaml";
  s.config_version = "0123456789ab";
  s.config_loaded_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796356068231));
  ProxyStatus b;
  b.node_id = "edge-2";
  b.group = "edge";
  b.node_cluster = "edge";
  b.peer = "ipv4:127.0.0.1:5000";
  b.types.push_back({std::string(xds::kClusterType), "c1", "c0", State::Nacked, "bad\ncluster"});
  ProxyStatus a;
  a.node_id = "edge-1";
  a.group = "edge";
  a.delta = true;
  a.types.push_back({std::string(xds::kClusterType), "c1", "c1", State::Synced, ""});
  a.types.push_back({std::string(xds::kListenerType), "l1", "", State::Stale, ""});
  ProxyStatus fresh;
  fresh.node_id = "grpc-1";
  fresh.group = "grpc";
  ProxyStatus stray;  // matched by no group
  stray.node_id = "stray";
  s.proxies = {b, a, fresh, stray};
  return s;
}

TEST(StatusReportTest, JsonCarriesEveryField) {
  DaemonStatus s = sample();
  s.last_rejection = Rejection{s.config_loaded_at, {"control.yaml:3:1: x: y"}};
  const auto j = statusToJson(s);
  EXPECT_EQ(j["config"]["file"], "control.yaml");
  EXPECT_EQ(j["config"]["version"], "0123456789ab");
  EXPECT_EQ(j["config"]["loaded_at"], "2026-12-04T03:47:48.231Z");
  EXPECT_EQ(j["last_rejection"]["errors"][0], "control.yaml:3:1: x: y");
  EXPECT_EQ(j["groups"], nlohmann::json::object());
  ASSERT_EQ(j["proxies"].size(), 4u);
  const auto& t = j["proxies"][0]["types"][0];
  EXPECT_EQ(t["type"], "CDS");
  EXPECT_EQ(t["type_url"], xds::kClusterType);
  EXPECT_EQ(t["state"], "NACKED");
  EXPECT_EQ(t["error"], "bad\ncluster");
  EXPECT_EQ(j["proxies"][1]["delta"], true);
  EXPECT_TRUE(statusToJson(sample())["last_rejection"].is_null());
}

TEST(StatusReportTest, TableHasOneLinePerProxyAndTypeSortedByNode) {
  std::vector<StatusRow> rows;
  std::string error;
  ASSERT_TRUE(statusRows(statusToJson(sample()), rows, error)) << error;
  EXPECT_EQ(formatStatusTable(rows),
            "NAME     GROUP   TYPE   SENT   ACKED   STATE    ERROR\n"
            "edge-1   edge    CDS    c1     c1      SYNCED\n"
            "edge-1   edge    LDS    l1     -       STALE\n"
            "edge-2   edge    CDS    c1     c0      NACKED   bad cluster\n"
            "grpc-1   grpc    -      -      -\n"
            "stray    -       -      -      -\n");
}

TEST(StatusReportTest, RowsRefuseADocumentThatIsNotAStatus) {
  std::vector<StatusRow> rows;
  std::string error;
  EXPECT_FALSE(statusRows(nlohmann::json{{"proxies", 3}}, rows, error));
  EXPECT_EQ(error, "not a sluice-control status document (no \"proxies\" list)");
  EXPECT_TRUE(statusRows(nlohmann::json{{"proxies", nlohmann::json::array()}}, rows, error));
  EXPECT_EQ(formatStatusTable(rows), "NAME   GROUP   TYPE   SENT   ACKED   STATE   ERROR\n");
}

TEST(StatusReportTest, DiscoveryServiceNames) {
  EXPECT_EQ(discoveryServiceName(xds::kClusterType), "CDS");
  EXPECT_EQ(discoveryServiceName(xds::kClusterLoadAssignmentType), "EDS");
  EXPECT_EQ(discoveryServiceName(xds::kListenerType), "LDS");
  EXPECT_EQ(discoveryServiceName(xds::kRouteConfigurationType), "RDS");
  EXPECT_EQ(discoveryServiceName(xds::kSecretType), "SDS");
  EXPECT_EQ(discoveryServiceName("type.googleapis.com/x.y.Runtime"), "Runtime");
}

}  // namespace
}  // namespace sluice::control
