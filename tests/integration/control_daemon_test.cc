// sluice-control, the real binary: a bad file refused at start with every
// error's position, `status` against a running daemon, an invalid edit
// refused while the last good config keeps serving (as an xDS client sees
// it), a valid edit pushed within a second, /metrics, /ready and SIGTERM.

#include <signal.h>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "'";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// "L:C" of the first `needle` in `text`, 1-based, as the loader reports it.
std::string positionOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  const size_t line_start = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
  const long line = std::count(text.begin(), text.begin() + static_cast<long>(at), '\n') + 1;
  return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

CommandResult control(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SLUICE_CONTROL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, 10s);
}

TEST(ControlDaemonTest, ABadFileAtStartExitsOneWithEveryErrorsPosition) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  yaml = replaced(yaml, "- address: 127.0.0.1:18092", "- address: 127.0.0.1:99999");
  yaml = replaced(yaml, "route: {cluster: echo}", "route: {cluster: nowhere}");
  TempDir dir;
  const std::string path = dir.write("control.yaml", yaml);
  const CommandResult r = control({"-c", path});
  ASSERT_TRUE(r.status) << "did not exit";
  EXPECT_TRUE(exitedWith(r.status, 1)) << describeWaitStatus(*r.status) << "\n" << r.err;
  EXPECT_EQ(lines(r.err),
            (std::vector<std::string>{
                path + ":" + positionOf(yaml, "127.0.0.1:99999") +
                    ": groups[0].clusters[0].endpoints[1].address: port out of range",
                path + ":" + positionOf(yaml, "nowhere") +
                    ": groups[1].route_configs[0].virtual_hosts[0].routes[0].route.cluster: unknown cluster 'nowhere'",
            }));
  // validate says the same, and nothing else starts.
  const CommandResult v = control({"validate", "-c", path});
  EXPECT_TRUE(exitedWith(v.status, 1));
  EXPECT_EQ(v.err, r.err);
}

TEST(ControlDaemonTest, HelpVersionValidateAndUsageErrors) {
  const CommandResult help = control({"--help"});
  EXPECT_TRUE(exitedWith(help.status, 0));
  EXPECT_NE(help.out.find("sluice-control status [--admin HOST:PORT]"), std::string::npos) << help.out;
  const CommandResult version = control({"--version"});
  EXPECT_TRUE(exitedWith(version.status, 0));
  EXPECT_EQ(version.out.rfind("sluice-control ", 0), 0u) << version.out;
  const CommandResult bad = control({"--bogus"});
  EXPECT_TRUE(exitedWith(bad.status, 2));
  EXPECT_EQ(bad.err.rfind("sluice-control: unknown argument '--bogus'", 0), 0u) << bad.err;
  const CommandResult missing = control({});
  EXPECT_TRUE(exitedWith(missing.status, 2));
  const std::string example = repoRoot() + "/config/examples/xds/control.yaml";
  const CommandResult ok = control({"validate", "-c", example});
  EXPECT_TRUE(exitedWith(ok.status, 0)) << ok.err;
  EXPECT_EQ(ok.out, example + ": ok (2 groups)\n");
}

TEST(ControlDaemonTest, StatusPrintsEachProxyPerTypeWithItsVersions) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  XdsProbe probe(daemon.adsAddress(), "edge-1", "edge", {"cds", "eds=backend", "lds", "rds=edge"});
  ASSERT_TRUE(probe.start());
  const auto rds = probe.waitFor("RDS", [](const json&) { return true; });
  ASSERT_TRUE(rds) << probe.output();
  std::map<std::string, std::string> sent;  // type -> version the probe got (and ACKed)
  for (const auto& r : probe.responses()) sent[r["type"]] = r["version"];
  ASSERT_EQ(sent.size(), 4u) << probe.output();

  // The ACK of the last response reaches the server after the probe printed it.
  std::vector<std::string> rows;
  CommandResult st;
  waitUntil(
      [&] {
        st = control({"status", "--admin", daemon.adminAddress()});
        rows = lines(st.out);
        return rows.size() == 5 && st.out.find("STALE") == std::string::npos;
      },
      5000ms);
  ASSERT_TRUE(exitedWith(st.status, 0)) << st.err;
  ASSERT_EQ(rows.size(), 5u) << st.out;
  EXPECT_EQ(words(rows[0]), (std::vector<std::string>{"NAME", "GROUP", "TYPE", "SENT", "ACKED", "STATE", "ERROR"}));
  std::map<std::string, std::vector<std::string>> by_type;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto w = words(rows[i]);
    ASSERT_GE(w.size(), 6u) << rows[i];
    by_type[w[2]] = w;
  }
  for (const auto& [type, version] : sent) {
    ASSERT_EQ(by_type.count(type), 1u) << st.out;
    EXPECT_EQ(by_type[type], (std::vector<std::string>{"edge-1", "edge", type, version, version, "SYNCED"})) << st.out;
  }
  EXPECT_NE(st.err.find("config " + daemon.configPath() + " version "), std::string::npos) << st.err;

  // A proxy that refuses its endpoints shows NACKED with its error.
  XdsProbe refusing(daemon.adsAddress(), "edge-0", "edge", {"cds", "eds=backend", "--nack=eds"});
  ASSERT_TRUE(refusing.start());
  const auto refused = refusing.waitFor("EDS", [](const json&) { return true; });
  ASSERT_TRUE(refused) << refusing.output();
  const std::string eds_version = (*refused)["version"];
  std::vector<std::string> nack_row;
  waitUntil(
      [&] {
        st = control({"status", "--admin", daemon.adminAddress()});
        for (const auto& row : lines(st.out))
          if (row.rfind("edge-0 ", 0) == 0 && row.find(" EDS ") != std::string::npos) nack_row = words(row);
        return nack_row.size() > 4 && nack_row[4] == "NACKED";
      },
      5000ms);
  // Nothing ACKed of EDS: the ACKED column is "-".
  EXPECT_EQ(nack_row, (std::vector<std::string>{"edge-0", "edge", "EDS", eds_version, "-", "NACKED", "probe",
                                                "refuses", eds_version}))
      << st.out;
  EXPECT_EQ(lines(st.out).size(), 7u) << st.out;  // header, edge-0 CDS and EDS, edge-1's four
}

TEST(ControlDaemonTest, StatusExitsNonZeroWhenTheDaemonIsNotThere) {
  uint16_t port;
  {
    Fd l = listenLoopback(1);
    port = localPort(l.get());
  }
  const CommandResult st = control({"status", "--admin", "127.0.0.1:" + std::to_string(port)});
  EXPECT_TRUE(exitedWith(st.status, 1));
  EXPECT_EQ(st.out, "");
  EXPECT_EQ(st.err, "sluice-control: cannot reach the daemon's admin endpoint at 127.0.0.1:" + std::to_string(port) +
                        ": Connection refused\n");
}

TEST(ControlDaemonTest, AnInvalidEditIsRefusedAndTheLastGoodConfigKeepsServing) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  XdsProbe probe(daemon.adsAddress(), "edge-1", "edge", {"cds", "eds=backend"});
  ASSERT_TRUE(probe.start());
  const auto first = probe.waitFor("EDS", [](const json&) { return true; });
  ASSERT_TRUE(first) << probe.output();
  EXPECT_EQ((*first)["resources"]["backend"], json({"127.0.0.1:18091", "127.0.0.1:18092"}));

  const std::string bad = replaced(yaml, "- address: 127.0.0.1:18092", "- address: 127.0.0.1:99999");
  daemon.writeConfig(bad);
  ASSERT_TRUE(daemon.waitMetricEq("sluice_control_config_rejections_total", {}, 1));
  EXPECT_EQ(daemon.metric("sluice_control_config_reloads_total"), 0);
  const HttpResponse status = daemon.get("/status");
  ASSERT_EQ(status.status, 200) << status.error;
  const json s = json::parse(status.body);
  ASSERT_TRUE(s["last_rejection"].is_object()) << status.body;
  EXPECT_EQ(s["last_rejection"]["errors"], json({daemon.configPath() + ":" + positionOf(bad, "127.0.0.1:99999") +
                                                 ": groups[0].clusters[0].endpoints[1].address: port out of range"}));
  EXPECT_NE(daemon.stderrText().find("port out of range"), std::string::npos);

  // The connected client got nothing new, and a client connecting now gets
  // the version served before the edit.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(probe.responses("EDS").size(), 1u) << probe.output();
  XdsProbe late(daemon.adsAddress(), "edge-2", "edge", {"cds", "eds=backend"});
  ASSERT_TRUE(late.start());
  const auto late_eds = late.waitFor("EDS", [](const json&) { return true; });
  ASSERT_TRUE(late_eds) << late.output();
  EXPECT_EQ((*late_eds)["version"], (*first)["version"]);
  EXPECT_EQ((*late_eds)["resources"], (*first)["resources"]);

  // A valid edit is pushed within a second of the write: the new endpoints,
  // and only the type that changed.
  const size_t cds_before = probe.responses("CDS").size();
  daemon.writeConfig(replaced(yaml, "- address: 127.0.0.1:18092", "- address: 127.0.0.1:18093"));
  const auto written = Clock::now();
  const auto moved = probe.waitFor(
      "EDS", [](const json& r) { return r["resources"]["backend"] == json({"127.0.0.1:18091", "127.0.0.1:18093"}); },
      3000ms);
  ASSERT_TRUE(moved) << probe.output();
  EXPECT_LT(msSince(written), 1000);
  EXPECT_NE((*moved)["version"], (*first)["version"]);
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_config_reloads_total", {}, 1));
  EXPECT_EQ(daemon.metric("sluice_control_config_rejections_total"), 1);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(probe.responses("CDS").size(), cds_before) << probe.output();
}

TEST(ControlDaemonTest, AProxyConnectedBeforeItsGroupExistsJoinsItWhenAdded) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  XdsProbe probe(daemon.adsAddress(), "canary-1", "canary", {"cds"});
  ASSERT_TRUE(probe.start());
  // Connected, matched by no group: listed, served nothing.
  ASSERT_TRUE(waitUntil([&] { return daemon.metric("sluice_control_proxies_connected") == 1; }, 10000ms));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(probe.responses().empty()) << probe.output();

  daemon.writeConfig(yaml + R"(  - name: canary
    match: {node_ids: [canary-1]}
    clusters:
      - name: canary-backend
        endpoints:
          - address: 127.0.0.1:18099
)");
  const auto cds = probe.waitFor("CDS", [](const json&) { return true; }, 3000ms);
  ASSERT_TRUE(cds) << probe.output();
  EXPECT_EQ((*cds)["resources"], json({{"canary-backend", true}}));
}

TEST(ControlDaemonTest, AProxyMovesWhenAnEditGivesItToAnotherGroup) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  XdsProbe probe(daemon.adsAddress(), "edge-7", "edge", {"cds"});
  ASSERT_TRUE(probe.start());
  ASSERT_TRUE(probe.waitFor("CDS", [](const json& r) { return r["resources"].contains("backend"); })) << probe.output();

  // A group listed before edge takes edge-7 by its id: first match wins.
  const std::string groups = "groups:\n";
  daemon.writeConfig(replaced(yaml, groups, groups + R"(  - name: canary
    match: {node_ids: [edge-7]}
    clusters:
      - name: canary-backend
        endpoints:
          - address: 127.0.0.1:18099
)"));
  const auto moved = probe.waitFor("CDS", [](const json& r) { return r["resources"] == json({{"canary-backend", true}}); },
                                   3000ms);
  ASSERT_TRUE(moved) << probe.output();
  const HttpResponse status = daemon.get("/status");
  ASSERT_EQ(status.status, 200);
  const json s = json::parse(status.body);
  ASSERT_EQ(s["proxies"].size(), 1u) << status.body;
  EXPECT_EQ(s["proxies"][0]["group"], "canary");
}

TEST(ControlDaemonTest, MetricsAndReady) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  const HttpResponse ready = daemon.get("/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_EQ(daemon.get("/nothing-here").status, 404);

  XdsProbe probe(daemon.adsAddress(), "edge-1", "edge", {"cds", "eds=backend"});
  ASSERT_TRUE(probe.start());
  ASSERT_TRUE(probe.waitFor("EDS", [](const json&) { return true; })) << probe.output();
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_proxies_connected", {}, 1));
  const HttpResponse m = daemon.get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_GE(findMetric(m.body, "sluice_control_pushes_total", {{"type", "Cluster"}}).value_or(0), 1);
  EXPECT_GE(findMetric(m.body, "sluice_control_pushes_total", {{"type", "ClusterLoadAssignment"}}).value_or(0), 1);
  EXPECT_TRUE(findMetric(m.body, "sluice_control_push_latency_seconds_count", {}));
  EXPECT_EQ(findMetric(m.body, "sluice_control_nacks_total", {{"type", "Cluster"}}), 0);
  EXPECT_EQ(findMetric(m.body, "sluice_control_config_reloads_total", {}), 0);
  EXPECT_EQ(findMetric(m.body, "sluice_control_config_rejections_total", {}), 0);
  // Both groups were published at start.
  EXPECT_EQ(findMetric(m.body, "sluice_control_groups_published_total", {}), 2);

  // An edit of one group: one more group published, and a push caused by a
  // publish, so its latency is measured.
  daemon.writeConfig(replaced(yaml, "- address: 127.0.0.1:18091", "- address: 127.0.0.1:18094"));
  ASSERT_TRUE(probe.waitFor("EDS", [](const json& r) { return r["resources"]["backend"][0] == "127.0.0.1:18092"; }))
      << probe.output();
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_config_reloads_total", {}, 1));
  EXPECT_EQ(daemon.metric("sluice_control_groups_published_total"), 3);
  // Counted once the push is written, which may be after the probe read it.
  EXPECT_TRUE(waitUntil([&] { return daemon.metric("sluice_control_push_latency_seconds_count").value_or(0) >= 1; },
                        5000ms));
  EXPECT_TRUE(waitUntil(
      [&] {
        return daemon.metric("sluice_control_pushes_total", {{"type", "ClusterLoadAssignment"}}).value_or(0) >= 2;
      },
      5000ms));

  probe.stop();
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_proxies_connected", {}, 0));
}

TEST(ControlDaemonTest, SigtermStopsBothServersAndExitsZero) {
  std::string yaml;
  ASSERT_TRUE(exampleControlYaml(&yaml));
  ControlDaemonProcess daemon(yaml);
  ASSERT_TRUE(daemon.start());
  XdsProbe probe(daemon.adsAddress(), "edge-1", "edge", {"cds"});
  ASSERT_TRUE(probe.start());
  ASSERT_TRUE(probe.waitFor("CDS", [](const json&) { return true; })) << probe.output();
  ASSERT_TRUE(daemon.signal(SIGTERM));
  const auto status = daemon.waitExit(5000ms);
  ASSERT_TRUE(status) << "still running 5 s after SIGTERM";
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
  // The open stream ended with the daemon, and the admin port is closed.
  EXPECT_TRUE(waitUntil([&] { return probe.output().find("\"error\"") != std::string::npos; }, 3000ms))
      << probe.output();
  EXPECT_FALSE(daemon.get("/ready").ok());
}

}  // namespace
}  // namespace sluice::itest
