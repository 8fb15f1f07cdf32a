// Transparent capture in network namespaces: two "pods" (A and B, one netns
// each, joined by a veth pair), each with its sidecar running as uid 1337
// behind the real `sluice iptables` rules. The client in A (curl, as root)
// calls B's IP and app port as if there were no mesh; the tests check that
// the call went A's sidecar -> mTLS -> B's sidecar -> B's app (metrics of
// both, their access logs, and the x-forwarded-client-cert the app saw),
// that A's sidecar's own upstream connection was not captured again (uid
// exclusion: one downstream connection, the iptables counters), that an
// unknown destination passes through an original_dst cluster (allow) or is
// refused (block), and that a connection addressed to a capture port is
// refused rather than looped.
//
// Needs root (netns, veth, iptables) and the iptables binaries; skipped
// with a message otherwise. Namespaces and veths are named after the test
// process (unique under ctest -j), and removed, with every process in them,
// by the fixture (support/netns_pods.h), pass or fail. Every port is inside the
// namespaces: no host port is taken.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/netns_pods.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const std::string kIdA = "spiffe://sluice.test/ns/default/sa/a";
const std::string kIdB = "spiffe://sluice.test/ns/default/sa/b";
constexpr const char* kIpA = "10.77.0.1";
constexpr const char* kIpB = "10.77.0.2";
constexpr int kAppPort = 8080;    // B's app, reached through the mesh
constexpr int kOtherPort = 9090;  // B's second app: a destination A's sidecar knows nothing about

std::string sidecarA(const std::string& dir, bool allow_unknown) {
  std::string yaml = R"(admin: {address: 127.0.0.1:15020}
workers: 1
listeners:
  - name: outbound
    address: 0.0.0.0:15001
    use_original_dst: true
    filter_chains:
      - match: {destination_port: 8080, prefix_ranges: [)" +
                     std::string(kIpB) + R"(/32]}
        http:
          access_log: {path: )" +
                     dir + R"(/logs/a.log, format: json}
          route_config:
            virtual_hosts: [{name: b, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: b-mtls}}]}]
)";
  if (allow_unknown) yaml += "      - tcp_proxy: {cluster: passthrough}\n";
  yaml += R"(clusters:
  - name: b-mtls
    connect_timeout: 2s
    endpoints: [{address: )" +
          std::string(kIpB) + ":" + std::to_string(kAppPort) + R"(}]
    tls:
      ca_bundle: )" +
          dir + R"(/root.crt
      cert_chain: )" +
          dir + R"(/sidecar-a.crt
      private_key: )" +
          dir + R"(/sidecar-a.key
      verify_spiffe_ids: [")" +
          kIdB + R"("]
      alpn: [http/1.1]
  - name: passthrough
    type: original_dst
    connect_timeout: 2s
)";
  return yaml;
}

std::string sidecarB(const std::string& dir) {
  return R"(admin: {address: 127.0.0.1:15020}
workers: 1
listeners:
  - name: inbound
    address: 0.0.0.0:15006
    use_original_dst: true
    filter_chains:
      - match: {destination_port: 8080}
        tls:
          certificates: [{cert_chain: )" +
         dir + "/sidecar-b.crt, private_key: " + dir + R"(/sidecar-b.key}]
          ca_bundle: )" +
         dir + R"(/root.crt
          require_client_cert: true
          verify_spiffe_ids: [")" +
         kIdA + R"("]
        http:
          forward_client_cert_details: sanitize_set
          access_log: {path: )" +
         dir + R"(/logs/b.log, format: json}
          route_config:
            virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
      - tcp_proxy: {cluster: inbound-passthrough}
clusters:
  - name: app
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:)" +
         std::to_string(kAppPort) + R"(}]
  - name: inbound-passthrough
    type: original_dst
    connect_timeout: 2s
)";
}

// Two pods joined by a veth (support/netns_pods.h), their apps and sidecars.
class CapturePods : public NetnsPods {
 protected:
  void SetUp() override {
    makePods({kIpA, kIpB, "", ""});
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(copyPki());
  }

  // A sidecar behind IPv4 rules only.
  ::testing::AssertionResult startSidecar(const std::string& name, const std::string& ns, const std::string& yaml,
                                          const std::vector<std::string>& rule_flags = {}) {
    std::vector<std::string> flags = {"--ipv6", "off"};
    flags.insert(flags.end(), rule_flags.begin(), rule_flags.end());
    return NetnsPods::startSidecar(name, ns, yaml, flags);
  }

  // The client app in A: curl as root, to B as if there were no mesh.
  CommandResult curlFromA(const std::string& url) {
    return runCommand(inNs(ns_a_, {"curl", "-sS", "--max-time", "5", "-o", "-", "-w", "\nstatus=%{http_code}", url}),
                      10s);
  }

  // B's apps, then both sidecars.
  void startPods(bool allow_unknown) {
    const std::string echo = dir_.write("echo_app.py", kEchoApp);
    ASSERT_TRUE(start("app-b", ns_b_, {"/usr/bin/python3", echo, std::to_string(kAppPort), "app"}, "listening on"));
    ASSERT_TRUE(start("other-b", ns_b_,
                      {SLUICE_BACKEND_BIN, "--listen", "0.0.0.0:" + std::to_string(kOtherPort), "--name", "other"},
                      "listening on"));
    ASSERT_TRUE(startSidecar("sidecar-b", ns_b_, sidecarB(dir_.path())));
    ASSERT_TRUE(startSidecar("sidecar-a", ns_a_, sidecarA(dir_.path(), allow_unknown)));
  }
};

TEST_F(CapturePods, ClientCallGoesSidecarToSidecarOverMtls) {
  startPods(/*allow_unknown=*/true);
  if (HasFatalFailure() || IsSkipped()) return;

  const std::string url = "http://" + std::string(kIpB) + ":" + std::to_string(kAppPort) + "/hello";
  CommandResult r = curlFromA(url);
  ASSERT_TRUE(ran(r)) << describe({"curl", url}, r);
  EXPECT_NE(r.out.find("status=200"), std::string::npos) << r.out;
  // What B's app saw: B's sidecar set XFCC from A's verified certificate.
  EXPECT_NE(r.out.find("x-forwarded-client-cert: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("URI=" + kIdA), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("By=" + kIdB), std::string::npos) << r.out;

  // A: one captured connection on the outbound chain for B's port, and an
  // mTLS connection to B; B: one TLS connection on the inbound port.
  EXPECT_EQ(metric(ns_a_, "sluice_listener_downstream_cx_total", {{"listener", "outbound"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "b-mtls"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "b-mtls"}}), 1);
  EXPECT_EQ(metric(ns_b_, "sluice_listener_downstream_cx_total", {{"listener", "inbound"}}), 1);
  EXPECT_EQ(metric(ns_b_, "sluice_listener_downstream_cx_tls_total", {{"listener", "inbound"}}), 1);
  EXPECT_EQ(metric(ns_b_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "app"}}), 1);

  // The access logs: A sent /hello to b-mtls; B took it from A's identity.
  auto a_entry = waitJsonEntry(dir_.path() + "/logs/a.log", "path", "/hello");
  ASSERT_TRUE(a_entry);
  EXPECT_EQ(field(*a_entry, "upstream_cluster"), "b-mtls");
  EXPECT_EQ(field(*a_entry, "status"), "200");
  auto b_entry = waitJsonEntry(dir_.path() + "/logs/b.log", "path", "/hello");
  ASSERT_TRUE(b_entry);
  EXPECT_EQ(field(*b_entry, "downstream_peer_uri_san"), kIdA);
  EXPECT_EQ(field(*b_entry, "upstream_cluster"), "app");

  // A's sidecar connected to B as uid 1337: not redirected again. The
  // client's connection is the only one the outbound REDIRECT took; the
  // sidecar's passed the uid exclusion.
  EXPECT_EQ(ruleCount(ns_a_, "SLUICE_REDIRECT", "REDIRECT --to-ports 15001", false), 1);
  EXPECT_GE(ruleCount(ns_a_, "SLUICE_OUTPUT", "--uid-owner 1337 -j RETURN", false), 1);
  // B redirected the one inbound connection to 15006.
  EXPECT_EQ(ruleCount(ns_b_, "SLUICE_IN_REDIRECT", "REDIRECT --to-ports 15006", false), 1);
}

TEST_F(CapturePods, UnknownDestinationPassesThroughWhenAllowed) {
  startPods(/*allow_unknown=*/true);
  if (HasFatalFailure() || IsSkipped()) return;

  // Port 9090: no chain of A's names it; the last chain passes it through
  // as TCP to where the client was going (B's inbound passes it on too).
  const std::string url = "http://" + std::string(kIpB) + ":" + std::to_string(kOtherPort) + "/plain";
  CommandResult r = curlFromA(url);
  ASSERT_TRUE(ran(r)) << describe({"curl", url}, r);
  EXPECT_NE(r.out.find("hello from other"), std::string::npos) << r.out;
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "passthrough"}}), 1);
  EXPECT_EQ(metric(ns_b_, "sluice_cluster_upstream_cx_total", {{"cluster", "inbound-passthrough"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "b-mtls"}}), 0);

  // A client in A calling B's inbound capture port itself: its original
  // destination is B's listener, so B's original_dst cluster refuses it
  // (counted) instead of connecting to itself until descriptors run out.
  const std::string loop = "http://" + std::string(kIpB) + ":15006/";
  CommandResult looped = curlFromA(loop);
  EXPECT_EQ(looped.out.find("status=200"), std::string::npos) << looped.out;
  EXPECT_TRUE(waitUntil(
      [&] {
        return metric(ns_b_, "sluice_cluster_upstream_cx_original_dst_loop_total",
                      {{"cluster", "inbound-passthrough"}}) == 1;
      },
      5s))
      << admin(ns_b_, "/metrics");
}

TEST_F(CapturePods, UnknownDestinationIsRefusedWhenBlocked) {
  startPods(/*allow_unknown=*/false);
  if (HasFatalFailure() || IsSkipped()) return;

  const std::string url = "http://" + std::string(kIpB) + ":" + std::to_string(kOtherPort) + "/plain";
  CommandResult r = curlFromA(url);
  EXPECT_EQ(r.out.find("hello from other"), std::string::npos) << r.out;
  EXPECT_TRUE(waitUntil(
      [&] {
        return metric(ns_a_, "sluice_listener_downstream_cx_no_filter_chain_total", {{"listener", "outbound"}}) == 1;
      },
      5s))
      << admin(ns_a_, "/metrics");
  // Nothing reached B: the connection ended in A's sidecar.
  EXPECT_EQ(metric(ns_b_, "sluice_listener_downstream_cx_total", {{"listener", "inbound"}}), 0);
  // The mesh route still works beside the refusal.
  CommandResult ok = curlFromA("http://" + std::string(kIpB) + ":" + std::to_string(kAppPort) + "/");
  EXPECT_NE(ok.out.find("status=200"), std::string::npos) << ok.out;
}

TEST_F(CapturePods, IptablesRunsTwiceAndCleansUp) {
  // The nat table without iptables-save's comment lines (they carry the time).
  const auto save = [&] {
    std::istringstream in(runCommand(inNs(ns_a_, {tool("iptables-save"), "-t", "nat"}), 5s).out);
    std::string rules;
    for (std::string line; std::getline(in, line);)
      if (!line.starts_with("#")) rules += line + "\n";
    return rules;
  };
  ASSERT_TRUE(sh(inNs(ns_a_, {proxyBinary(), "iptables", "--ipv6", "off", "--exclude-outbound-ports", "22"})));
  const std::string first = save();
  ASSERT_TRUE(sh(inNs(ns_a_, {proxyBinary(), "iptables", "--ipv6", "off", "--exclude-outbound-ports", "22"})));
  EXPECT_EQ(save(), first) << "a second run must leave the same rules";
  size_t hooks = 0;
  for (size_t p = first.find("-j SLUICE_OUTPUT"); p != std::string::npos; p = first.find("-j SLUICE_OUTPUT", p + 1))
    ++hooks;
  EXPECT_EQ(hooks, 1u) << first;
  ASSERT_TRUE(sh(inNs(ns_a_, {proxyBinary(), "iptables", "--cleanup"})));
  EXPECT_EQ(save().find("SLUICE"), std::string::npos) << save();
  // A bad flag: exit 2, the flag named, nothing touched.
  CommandResult bad = runCommand(inNs(ns_a_, {proxyBinary(), "iptables", "--inbound-port", "0"}), 5s);
  ASSERT_TRUE(bad.status);
  EXPECT_TRUE(WIFEXITED(*bad.status) && WEXITSTATUS(*bad.status) == 2) << describe({"iptables"}, bad);
  EXPECT_NE(bad.err.find("--inbound-port: '0' is not a port"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sluice::itest

namespace sluice::itest {
namespace {

// The mesh drives the capture: sluice-control (in pod A, its ADS and CA
// port left out of A's inbound capture) computes both sidecars' configs from
// a mesh of two captured workloads, as discovery from Kubernetes gives them,
// and issues their certificates; A's app calls B's service by its virtual
// IP, as a Kubernetes app calls a ClusterIP. Nothing but capture routes the
// virtual IP: the call works only if A's sidecar dispatched it by its
// original destination to B's endpoint.
class MeshCapturePods : public CapturePods {};

constexpr const char* kServiceVip = "10.96.0.2";

std::string meshControl(const std::string& dir) {
  return R"(ads: {address: 0.0.0.0:15010}
admin: {address: 127.0.0.1:15000}
ca:
  trust_domain: sluice.test
  dir: )" +
         dir + R"(/ca
  token_keys: [)" +
         dir + R"(/token.key]
  address: 0.0.0.0:15012
  tls: {ip_addresses: [127.0.0.1, )" +
         kIpA + R"(]}
mesh:
  trust_domain: sluice.test
  services:
    - name: b
      addresses: [)" +
         kServiceVip + R"(]
      ports: [{port: 80, protocol: http}]
      endpoints: [{address: )" +
         kIpB + ":" + std::to_string(kAppPort) + R"(, workload: b}]
  workloads:
    - {name: a, capture: true}
    - {name: b, capture: true}
  policies:
    authorization:
      - name: b-callers
        service: b
        default_action: deny
        rules: [{name: a, action: allow, from: {service_accounts: [a]}}]
)";
}

// `control`: the control plane's address as this sidecar reaches it; ADS
// on port 15010, the CA (TLS, verified against the mesh root) on 15012.
std::string meshSidecar(const std::string& dir, const std::string& name, const std::string& control) {
  return R"(admin: {address: 127.0.0.1:15020}
workers: 1
dynamic:
  ads:
    address: )" +
         control + R"(:15010
    node: {id: )" +
         name + R"(.default, cluster: )" + name + R"(}
  ca:
    address: )" +
         control + R"(:15012
    root_file: )" +
         dir + R"(/ca-roots.pem
    token_file: )" +
         dir + "/token-" + name + "\n";
}

TEST_F(MeshCapturePods, AnAppCallsAServiceAddressAndTheMeshCarriesItOverMtls) {
  const std::string dir = dir_.path();
  dir_.write("token.key", "8c1f0e5a2b7d4c3e9f6a1b0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4");
  ASSERT_TRUE(start("control", ns_a_, {SLUICE_CONTROL_BIN, "-c", dir_.write("control.yaml", meshControl(dir))}));
  const std::vector<std::string> ready =
      inNs(ns_a_, {"curl", "-sf", "--max-time", "2", "http://127.0.0.1:15000/ready"});
  ASSERT_TRUE(waitUntil([&] { return ran(runCommand(ready, 5s)); }, 15s)) << stderrOf("control");
  // The mesh root, where the sidecars' uid can read it (ca/ is the CA's, 0700).
  ::chmod(dir_.write("ca-roots.pem", readFile(dir + "/ca/root.pem")).c_str(), 0644);
  for (const char* sa : {"a", "b"}) {
    CommandResult t = runCommand(
        {SLUICE_CONTROL_BIN, "token", "--key", dir + "/token.key", "--namespace", "default", "--service-account", sa},
        10s);
    ASSERT_TRUE(ran(t)) << describe({"sluice-control token"}, t);
    const std::string file = dir_.write(std::string("token-") + sa, t.out);
    ::chmod(file.c_str(), 0644);
  }
  const std::string echo = dir_.write("echo_app.py", kEchoApp);
  ASSERT_TRUE(start("app-b", ns_b_, {"/usr/bin/python3", echo, std::to_string(kAppPort), "app"}, "listening on"));
  ASSERT_TRUE(startSidecar("sidecar-b", ns_b_, meshSidecar(dir, "b", kIpA)));
  ASSERT_TRUE(
      startSidecar("sidecar-a", ns_a_, meshSidecar(dir, "a", "127.0.0.1"), {"--exclude-inbound-ports", "15010,15012"}));
  // The virtual IP leaves by A's link, as a ClusterIP would by a node's.
  ASSERT_TRUE(sh({tool("ip"), "-n", ns_a_, "route", "add", "10.96.0.0/16", "dev", veth_a_}));

  const std::string url = "http://" + std::string(kServiceVip) + "/mesh";
  CommandResult r;
  // The sidecars have their listeners; their certificates may still be on the way.
  const bool answered = waitUntil(
      [&] {
        r = curlFromA(url);
        return r.out.find("status=200") != std::string::npos;
      },
      15s);
  ASSERT_TRUE(answered) << r.out << r.err << "\nA: " << admin(ns_a_, "/config_dump")
                        << "\nB: " << stderrOf("sidecar-b");
  EXPECT_NE(r.out.find("URI=spiffe://sluice.test/ns/default/sa/a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("By=spiffe://sluice.test/ns/default/sa/b"), std::string::npos) << r.out;
  // A took it on the captured outbound port and sent it to b's cluster; B on
  // the captured inbound port, over TLS, through its authorization.
  EXPECT_GE(metric(ns_a_, "sluice_listener_downstream_cx_total", {{"listener", "outbound_capture"}}), 1);
  EXPECT_GE(metric(ns_a_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "outbound_80__b.default"}}), 1);
  EXPECT_GE(metric(ns_b_, "sluice_listener_downstream_cx_tls_total", {{"listener", "inbound_capture"}}), 1);
  EXPECT_GE(metric(ns_b_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "inbound_80_b"}}), 1);
}

}  // namespace
}  // namespace sluice::itest
