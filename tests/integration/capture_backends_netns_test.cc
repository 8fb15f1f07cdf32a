// `sluice iptables` on both iptables backends, in network namespaces (two
// "pods" joined by a veth, support/netns_pods.h): the legacy backend
// (x_tables) chosen by flag installs, installs again without duplicating a
// rule, carries a captured call through the sidecar, and cleans up; and
// `--backend auto` writes to the backend that already holds rules in the
// pod's namespace (a CNI or an earlier init step may have put them there),
// nft or legacy, else to the system's default binaries, so that a pod's
// NAT table is never split between the two.
//
// Needs root, network namespaces and both backends' binaries
// (iptables-legacy-*, iptables-nft-*); skipped with the missing piece
// named otherwise. Everything is removed by the fixture, pass or fail.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/netns_pods.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char* kIpA = "10.79.0.1";
constexpr const char* kIpB = "10.79.0.2";
constexpr int kAppPort = 8080;

// A's sidecar: the captured outbound port, B's app port dispatched by the
// original destination to B's app in plain HTTP (the backends are what is
// tested here, not mTLS).
std::string sidecarA() {
  return std::string(R"(admin: {address: 127.0.0.1:15020}
workers: 1
listeners:
  - name: outbound
    address: 0.0.0.0:15001
    use_original_dst: true
    filter_chains:
      - match: {destination_port: 8080}
        http:
          route_config:
            virtual_hosts: [{name: b, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: b}}]}]
clusters:
  - name: b
    connect_timeout: 2s
    endpoints: [{address: )") +
         kIpB + ":" + std::to_string(kAppPort) + "}]\n";
}

class CaptureBackends : public NetnsPods {
 protected:
  void SetUp() override {
    for (const char* t : {"iptables-legacy-restore", "iptables-legacy-save", "iptables-nft-restore",
                          "iptables-nft-save"})
      if (::access(tool(t).c_str(), X_OK) != 0)
        GTEST_SKIP() << "the iptables backends test needs " << t << " (Debian's iptables package has it)";
    makePods({kIpA, kIpB, "", ""});
    if (IsSkipped() || HasFatalFailure()) return;
    if (!ran(runCommand(inNs(ns_a_, {tool("iptables-legacy-save"), "-t", "nat"}), 10s)))
      GTEST_SKIP() << "iptables-legacy cannot reach the nat table here (no ip_tables/iptable_nat module)";
  }

  // `<backend>-save -t nat` in A without its comment lines (they carry the
  // time); `backend` is "iptables-legacy", "iptables-nft" or "iptables".
  std::string natRules(const std::string& backend, const std::string& ns = "") {
    const CommandResult r = runCommand(inNs(ns.empty() ? ns_a_ : ns, {tool(backend + "-save"), "-t", "nat"}), 5s);
    EXPECT_TRUE(ran(r)) << describe({backend + "-save"}, r);
    std::istringstream in(r.out);
    std::string rules;
    for (std::string line; std::getline(in, line);)
      if (!line.starts_with("#")) rules += line + "\n";
    return rules;
  }
  bool holdsOurs(const std::string& backend) { return natRules(backend).find("SLUICE") != std::string::npos; }

  ::testing::AssertionResult capture(const std::vector<std::string>& flags) {
    std::vector<std::string> argv = inNs(ns_a_, {proxyBinary(), "iptables", "--ipv6", "off"});
    argv.insert(argv.end(), flags.begin(), flags.end());
    return sh(argv);
  }

  // Packets the legacy rule of `chain` containing `rule` counted in A.
  long long legacyCount(const std::string& chain, const std::string& rule) {
    const CommandResult r = runCommand(inNs(ns_a_, {tool("iptables-legacy-save"), "-c", "-t", "nat"}), 5s);
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      if (line.find("-A " + chain + " ") == std::string::npos || line.find(rule) == std::string::npos) continue;
      long long packets = -1, bytes = 0;
      if (std::sscanf(line.c_str(), "[%lld:%lld]", &packets, &bytes) == 2) return packets;
    }
    return -1;
  }
};

TEST_F(CaptureBackends, LegacyInstallsTwiceCarriesACallAndCleansUp) {
  ASSERT_TRUE(capture({"--backend", "legacy"}));
  const std::string first = natRules("iptables-legacy");
  EXPECT_NE(first.find("-A SLUICE_REDIRECT -p tcp -j REDIRECT --to-ports 15001"), std::string::npos) << first;
  EXPECT_FALSE(holdsOurs("iptables-nft")) << "legacy was asked for: nothing in nft\n" << natRules("iptables-nft");

  // A second run (a restarted init container) leaves the same rules.
  ASSERT_TRUE(capture({"--backend", "legacy"}));
  EXPECT_EQ(natRules("iptables-legacy"), first) << "a second run must leave the same rules";

  // A call from A's app to B's app, through A's sidecar behind the legacy rules.
  const std::string echo = dir_.write("echo_app.py", kEchoApp);
  ASSERT_TRUE(start("app-b", ns_b_, {"/usr/bin/python3", echo, std::to_string(kAppPort), "app"}, "listening on"));
  ASSERT_TRUE(startSidecar("sidecar-a", ns_a_, sidecarA(), {"--ipv6", "off", "--backend", "legacy"}));
  const std::string url = "http://" + std::string(kIpB) + ":" + std::to_string(kAppPort) + "/legacy";
  const CommandResult r =
      runCommand(inNs(ns_a_, {"curl", "-sS", "--max-time", "5", "-o", "-", "-w", "\nstatus=%{http_code}", url}), 10s);
  ASSERT_TRUE(ran(r)) << describe({"curl", url}, r);
  EXPECT_NE(r.out.find("status=200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server: app"), std::string::npos) << r.out;
  // The sidecar took the one call, and its own connection to B passed the
  // uid exclusion rather than being captured again.
  EXPECT_EQ(metric(ns_a_, "sluice_listener_downstream_cx_total", {{"listener", "outbound"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "b"}}), 1);
  EXPECT_EQ(legacyCount("SLUICE_REDIRECT", "REDIRECT --to-ports 15001"), 1);
  EXPECT_GE(legacyCount("SLUICE_OUTPUT", "--uid-owner 1337 -j RETURN"), 1);

  ASSERT_TRUE(capture({"--backend", "legacy", "--cleanup"}));
  EXPECT_FALSE(holdsOurs("iptables-legacy")) << natRules("iptables-legacy");
}

TEST_F(CaptureBackends, AutoWritesWhereRulesAlreadyAre) {
  // Legacy holds a rule (of another table: any rule counts), nft none.
  ASSERT_TRUE(sh(inNs(ns_a_, {tool("iptables-legacy"), "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "9",
                              "-j", "ACCEPT"})));
  ASSERT_TRUE(capture({}));
  EXPECT_TRUE(holdsOurs("iptables-legacy")) << natRules("iptables-legacy");
  EXPECT_FALSE(holdsOurs("iptables-nft")) << natRules("iptables-nft");
  // Cleanup finds them there too.
  ASSERT_TRUE(capture({"--cleanup"}));
  EXPECT_FALSE(holdsOurs("iptables-legacy")) << natRules("iptables-legacy");

  // B: nft holds a rule, legacy none: nft is chosen.
  ASSERT_TRUE(sh(inNs(ns_b_, {tool("iptables-nft"), "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j",
                              "ACCEPT"})));
  ASSERT_TRUE(sh(inNs(ns_b_, {proxyBinary(), "iptables", "--ipv6", "off"})));
  EXPECT_NE(natRules("iptables-nft", ns_b_).find("SLUICE"), std::string::npos) << natRules("iptables-nft", ns_b_);
  EXPECT_EQ(natRules("iptables-legacy", ns_b_).find("SLUICE"), std::string::npos);
}

TEST_F(CaptureBackends, AutoWithNoRulesAnywhereUsesTheDefaultBinaries) {
  ASSERT_TRUE(capture({}));
  EXPECT_TRUE(holdsOurs("iptables")) << "the default iptables-save shows nothing of ours\n" << natRules("iptables");
  // Exactly one backend has them.
  EXPECT_NE(holdsOurs("iptables-nft"), holdsOurs("iptables-legacy"));
}

}  // namespace
}  // namespace sluice::itest
