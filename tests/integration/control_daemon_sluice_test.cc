// The mesh loop end to end: a sluice proxy whose bootstrap names
// sluice-control as its ADS server gets the example's edge group (a
// listener, its route table, a round-robin cluster of two backends) and
// serves it; an edit of control.yaml that drops a backend reaches the
// proxy's data path, and `sluice-control status` shows the proxy SYNCED.
// Run once per stream flavour: state of the world, and incremental (delta)
// xDS; the proxy's /metrics shows the stream connected and what it ACKed.
//
// Needs a sluice with an ADS client (the bootstrap's `dynamic:` block);
// skipped, saying so, when the proxy under test has none.

#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "'";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

uint16_t freePort() {
  Fd l = listenLoopback(1);
  return localPort(l.get());
}

class ControlDaemonSluiceTest : public ::testing::TestWithParam<bool> {};

TEST_P(ControlDaemonSluiceTest, AProxyServesTheEdgeGroupAndFollowsAnEdit) {
  const bool delta = GetParam();
  ControlledUpstream b1("b1"), b2("b2");
  const uint16_t listener_port = freePort();
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  yaml = replaced(yaml, "address: 127.0.0.1:10000", "address: 127.0.0.1:" + std::to_string(listener_port));
  yaml = replaced(yaml, "- address: 127.0.0.1:18091", "- address: " + b1.address());
  yaml = replaced(yaml, "- address: 127.0.0.1:18092", "- address: " + b2.address());
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());

  const std::string bootstrap =
      "admin:\n  address: 127.0.0.1:0\ndynamic:\n  ads:\n    address: " + daemon.adsAddress() +
      "\n    node: {id: edge-1, cluster: edge}\n" + (delta ? "    delta: true\n" : "");
  {
    TempDir dir;
    const CommandResult v = runSluice({"validate", "-c", dir.write("bootstrap.yaml", bootstrap)});
    if (v.err.find("unknown field 'dynamic'") != std::string::npos)
      GTEST_SKIP() << "this sluice has no ADS client (the bootstrap's dynamic: block)";
    ASSERT_TRUE(exitedWith(v.status, 0)) << v.err;
  }
  ProxyProcess proxy(bootstrap);
  ASSERT_TRUE(proxy.start());

  const std::string url = localUrl(listener_port, "/");
  std::multiset<std::string> seen;
  ASSERT_TRUE(waitUntil([&] { return curl({url}, 2000ms).status == 200; }, 10000ms))
      << "the listener from sluice-control never answered";
  for (int i = 0; i < 6; ++i) seen.insert(curl({url}, 2000ms).body);
  EXPECT_EQ(seen.count("b1\n"), 3u);  // round robin
  EXPECT_EQ(seen.count("b2\n"), 3u);

  // b2 leaves the group's cluster: the proxy's next requests all go to b1.
  std::string edited = yaml;
  const std::string b2_line = "          - address: " + b2.address() + "\n";
  edited.erase(edited.find(b2_line), b2_line.size());
  daemon.writeConfig(edited);
  int b1_in_a_row = 0;
  ASSERT_TRUE(
      waitUntil([&] { return (curl({url}, 2000ms).body == "b1\n" ? ++b1_in_a_row : (b1_in_a_row = 0)) >= 4; }, 5000ms));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(curl({url}, 2000ms).body, "b1\n");
  EXPECT_EQ(proxy.metric("sluice_xds_connected"), 1);
  EXPECT_EQ(proxy.metric("sluice_xds_stream_reconnects_total"), 0);
  EXPECT_EQ(proxy.metric("sluice_xds_updates_rejected_total", {{"type", "ClusterLoadAssignment"}}), 0);
  // The endpoints came twice (the group, then the edit): two ACKs.
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_xds_updates_accepted_total", {{"type", "ClusterLoadAssignment"}}, 2));
  EXPECT_EQ(proxy.metric("sluice_xds_resources", {{"type", "Cluster"}}), 1);
  EXPECT_EQ(proxy.metric("sluice_xds_resources", {{"type", "Listener"}}), 1);
  auto dump = nlohmann::json::parse(proxy.get("/config_dump").body, nullptr, false);
  ASSERT_TRUE(dump.is_object());
  EXPECT_EQ(dump["xds"]["protocol"], delta ? "delta" : "sotw");

  CommandResult st;
  std::vector<std::string> synced;
  waitUntil(
      [&] {
        st = runCommand({SLUICE_CONTROL_BIN, "status", "--admin", daemon.adminAddress()}, 10s);
        synced.clear();
        std::istringstream in(st.out);
        for (std::string row; std::getline(in, row);)
          if (row.rfind("edge-1 ", 0) == 0 && row.find(" SYNCED") != std::string::npos) synced.push_back(row);
        return synced.size() == 4;
      },
      5000ms);
  EXPECT_EQ(synced.size(), 4u) << st.out;  // CDS, EDS, LDS, RDS
}

// sluice_xds_connected says the stream is up, not that something came on it:
// a proxy whose node no group matches gets no response at all, and shows
// connected as soon as sluice-control has taken its stream; 0 once the
// daemon is gone.
TEST_P(ControlDaemonSluiceTest, ConnectedBeforeAnyResponseAndNotAfterTheDaemonGoes) {
  const bool delta = GetParam();
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  ProxyProcess proxy("admin:\n  address: 127.0.0.1:0\ndynamic:\n  ads:\n    address: " + daemon.adsAddress() +
                     "\n    node: {id: stray-1, cluster: no-such-group}\n" + (delta ? "    delta: true\n" : ""));
  ASSERT_TRUE(proxy.start());
  EXPECT_TRUE(proxy.waitMetricEq("sluice_xds_connected", {}, 1));
  for (const char* type : {"Cluster", "Listener"})
    EXPECT_EQ(proxy.metric("sluice_xds_updates_accepted_total", {{"type", type}}), 0) << type << ": nothing was sent";
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_proxies_connected", {}, 1));

  ASSERT_TRUE(daemon.signal(SIGTERM));
  EXPECT_TRUE(daemon.waitExit(10000ms).has_value());
  EXPECT_TRUE(proxy.waitMetricEq("sluice_xds_connected", {}, 0));
}

INSTANTIATE_TEST_SUITE_P(Flavours, ControlDaemonSluiceTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Delta" : "StateOfTheWorld"; });

}  // namespace
}  // namespace sluice::itest
