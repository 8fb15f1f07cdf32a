// Dual-stack transparent capture in network namespaces (support/netns_pods.h:
// pods A and B over a veth with IPv4 and IPv6 addresses, sidecars as uid
// 1337 behind `sluice iptables --ipv6 on`).
//
// - IPv6 end to end: the client in A (curl, as root) calls B's IPv6 address
//   and app port as if there were no mesh; ip6tables brings it to A's
//   dual-stack [::] outbound listener, which matches the IPv6 original
//   destination's chain and sends it over mTLS to B, where ip6tables brings
//   it to B's [::] inbound listener and its app. Checked: the
//   x-forwarded-client-cert the app saw, both sidecars' metrics, and that A's
//   sidecar's own upstream connection was not captured again (ip6tables
//   counters). An IPv4 call on the same listeners takes the IPv4 chain.
// - HTTP routes to original_dst clusters, over both families: the upstream
//   host is where the client was going, pooled per destination; the
//   x-envoy-original-dst-host header picks it only on a cluster that allows
//   it; a destination that is the listener itself is refused.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/netns_pods.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const std::string kIdA = "spiffe://sluice.test/ns/default/sa/a";
const std::string kIdB = "spiffe://sluice.test/ns/default/sa/b";
constexpr const char* kIpA = "10.79.0.1";
constexpr const char* kIpB = "10.79.0.2";
constexpr const char* kIp6A = "fd00:79::1";
constexpr const char* kIp6B = "fd00:79::2";
constexpr int kAppPort = 8080;    // B's app
constexpr int kOtherPort = 9090;  // B's second app

std::string url(const std::string& ip, int port, const std::string& path) {
  const bool v6 = ip.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port) + path;
}

class DualStackPods : public NetnsPods {
 protected:
  void SetUp() override {
    makePods({kIpA, kIpB, kIp6A, kIp6B});
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(copyPki());
    const std::string echo = dir_.write("echo_app.py", kEchoApp);
    ASSERT_TRUE(start("app-b", ns_b_, {"/usr/bin/python3", echo, std::to_string(kAppPort), "app"}, "listening on"));
    ASSERT_TRUE(
        start("other-b", ns_b_, {"/usr/bin/python3", echo, std::to_string(kOtherPort), "other"}, "listening on"));
  }

  // The client app in A: curl as root, to B as if there were no mesh.
  CommandResult curlFromA(const std::string& target, const std::vector<std::string>& headers = {}) {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "5", "-o", "-", "-w", "\nstatus=%{http_code}"};
    for (const auto& h : headers) argv.insert(argv.end(), {"-H", h});
    argv.push_back(target);
    return runCommand(inNs(ns_a_, argv), 10s);
  }

  ::testing::AssertionResult startSidecarA(const std::string& yaml) {
    return startSidecar("sidecar-a", ns_a_, yaml, {"--ipv6", "on"});
  }
};

// --- IPv6 end to end, sidecar to sidecar ------------------------------------

// A's sidecar: its admin, one worker, and the dual-stack capture listener
// `outbound` with `chains` (the items of its filter_chains), then `clusters`.
std::string sidecarA(const std::string& chains, const std::string& clusters) {
  return R"(admin: {address: 127.0.0.1:15020}
workers: 1
listeners:
  - name: outbound
    address: "[::]:15001"
    use_original_dst: true
    filter_chains:
)" + chains +
         "clusters:\n" + clusters;
}

std::string meshSidecarA(const std::string& dir) {
  const std::string http = R"(
        http:
          access_log: {path: )" +
                           dir + R"(/logs/a.log, format: json}
          route_config:
            virtual_hosts: [{name: b, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: b-mtls}}]}]
)";
  const std::string chains = "      - match: {destination_port: 8080, prefix_ranges: [\"" + std::string(kIp6B) +
                             "/128\"]}" + http + "      - match: {destination_port: 8080, prefix_ranges: [" + kIpB +
                             "/32]}" + http + "      - tcp_proxy: {cluster: passthrough}\n";
  return sidecarA(chains, R"(  - name: b-mtls
    connect_timeout: 2s
    endpoints: [{address: "[)" +
                              std::string(kIp6B) + "]:" + std::to_string(kAppPort) + R"("}]
    tls:
      ca_bundle: )" + dir + R"(/root.crt
      cert_chain: )" + dir + R"(/sidecar-a.crt
      private_key: )" + dir + R"(/sidecar-a.key
      verify_spiffe_ids: [")" +
                              kIdB + R"("]
      alpn: [http/1.1]
  - name: passthrough
    type: original_dst
    connect_timeout: 2s
)");
}

std::string meshSidecarB(const std::string& dir) {
  return R"(admin: {address: 127.0.0.1:15020}
workers: 1
listeners:
  - name: inbound
    address: "[::]:15006"
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

TEST_F(DualStackPods, Ipv6CallGoesSidecarToSidecarOverMtls) {
  ASSERT_TRUE(startSidecar("sidecar-b", ns_b_, meshSidecarB(dir_.path()), {"--ipv6", "on"}));
  ASSERT_TRUE(startSidecarA(meshSidecarA(dir_.path())));

  const std::string target = url(kIp6B, kAppPort, "/hello6");
  CommandResult r = curlFromA(target);
  ASSERT_TRUE(ran(r)) << describe({"curl", target}, r);
  EXPECT_NE(r.out.find("status=200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server: app"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("URI=" + kIdA), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("By=" + kIdB), std::string::npos) << r.out;

  EXPECT_EQ(metric(ns_a_, "sluice_listener_downstream_cx_total", {{"listener", "outbound"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "b-mtls"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "b-mtls"}}), 1);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "passthrough"}}), 0);
  EXPECT_EQ(metric(ns_b_, "sluice_listener_downstream_cx_tls_total", {{"listener", "inbound"}}), 1);
  EXPECT_EQ(metric(ns_b_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "app"}}), 1);
  auto b_entry = waitJsonEntry(dir_.path() + "/logs/b.log", "path", "/hello6");
  ASSERT_TRUE(b_entry);
  EXPECT_EQ(field(*b_entry, "downstream_peer_uri_san"), kIdA);

  // ip6tables took the client's connection to A's outbound port once; A's
  // sidecar's own connection to B passed the uid exclusion; B redirected the
  // one inbound connection. Nothing went through the IPv4 tables.
  EXPECT_EQ(ruleCount(ns_a_, "SLUICE_REDIRECT", "REDIRECT --to-ports 15001", true), 1);
  EXPECT_GE(ruleCount(ns_a_, "SLUICE_OUTPUT", "--uid-owner 1337 -j RETURN", true), 1);
  EXPECT_EQ(ruleCount(ns_b_, "SLUICE_IN_REDIRECT", "REDIRECT --to-ports 15006", true), 1);
  EXPECT_EQ(ruleCount(ns_a_, "SLUICE_REDIRECT", "REDIRECT --to-ports 15001", false), 0);

  // IPv4 on the same dual-stack listeners: its own chain, the same mesh.
  CommandResult v4 = curlFromA(url(kIpB, kAppPort, "/hello4"));
  EXPECT_NE(v4.out.find("status=200"), std::string::npos) << v4.out;
  EXPECT_NE(v4.out.find("URI=" + kIdA), std::string::npos) << v4.out;
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "b-mtls"}}), 2);
  EXPECT_EQ(ruleCount(ns_a_, "SLUICE_REDIRECT", "REDIRECT --to-ports 15001", false), 1);
}

// --- HTTP to original_dst clusters ------------------------------------------

// A's sidecar alone (B has no sidecar): every captured HTTP request goes to
// an original_dst cluster; requests for host "override.test" to one that
// takes x-envoy-original-dst-host.
std::string originalDstSidecar(const std::string& dir) {
  return sidecarA(R"(      - http:
          access_log: {path: )" +
                      dir + R"(/logs/a.log, format: json}
          route_config:
            virtual_hosts:
              - {name: override, domains: [override.test], routes: [{match: {prefix: /}, route: {cluster: by-header}}]}
              - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: pass}}]}
)",
                  R"(  - name: pass
    type: original_dst
    connect_timeout: 2s
    cleanup_interval: 3s
  - name: by-header
    type: original_dst
    use_http_header: true
    connect_timeout: 2s
)");
}

TEST_F(DualStackPods, HttpRouteReachesTheOriginalDestination) {
  ASSERT_TRUE(startSidecarA(originalDstSidecar(dir_.path())));
  for (const std::string ip : {kIpB, kIp6B}) {
    SCOPED_TRACE(ip);
    const std::string path = "/to-" + std::string(ip.find(':') == std::string::npos ? "v4" : "v6");
    CommandResult r = curlFromA(url(ip, kAppPort, path));
    ASSERT_TRUE(ran(r)) << describe({"curl"}, r);
    EXPECT_NE(r.out.find("status=200"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("server: app"), std::string::npos) << r.out;
    auto entry = waitJsonEntry(dir_.path() + "/logs/a.log", "path", path);
    ASSERT_TRUE(entry);
    EXPECT_EQ(field(*entry, "upstream_cluster"), "pass");
    const std::string host = ip.find(':') == std::string::npos ? ip : "[" + ip + "]";
    EXPECT_EQ(field(*entry, "upstream_host"), host + ":" + std::to_string(kAppPort));
    // Another destination of the same pod: its own host.
    CommandResult other = curlFromA(url(ip, kOtherPort, path + "-other"));
    EXPECT_NE(other.out.find("server: other"), std::string::npos) << other.out;
  }
  // One upstream connection per destination, then kept alive: a second
  // request (a new downstream connection) to the same one reuses it.
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "pass"}}), 4);
  CommandResult again = curlFromA(url(kIp6B, kAppPort, "/again"));
  EXPECT_NE(again.out.find("server: app"), std::string::npos) << again.out;
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_rq_total", {{"cluster", "pass"}}), 5);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "pass"}}), 4);
  EXPECT_GE(metric(ns_a_, "sluice_cluster_upstream_cx_active", {{"cluster", "pass"}}), 1);
  // Unused for a cleanup interval (3s here), the hosts go, and their idle
  // connections with them (the pool's own idle_timeout is 60s).
  EXPECT_TRUE(waitUntil(
      [&] {
        return metric(ns_a_, "sluice_cluster_upstream_cx_active", {{"cluster", "pass"}}) == 0;
      },
      10s))
      << admin(ns_a_, "/metrics");
}

TEST_F(DualStackPods, HeaderPicksTheHostOnlyWhereAllowed) {
  ASSERT_TRUE(startSidecarA(originalDstSidecar(dir_.path())));
  const std::string header = "x-envoy-original-dst-host: [" + std::string(kIp6B) + "]:" + std::to_string(kOtherPort);
  // `pass` does not take the header: the connection's destination wins.
  CommandResult ignored = curlFromA(url(kIpB, kAppPort, "/ignored"), {header});
  EXPECT_NE(ignored.out.find("server: app"), std::string::npos) << ignored.out;
  // `by-header` does.
  CommandResult honoured = curlFromA(url(kIpB, kAppPort, "/honoured"), {header, "Host: override.test"});
  EXPECT_NE(honoured.out.find("server: other"), std::string::npos) << honoured.out;
  auto entry = waitJsonEntry(dir_.path() + "/logs/a.log", "path", "/honoured");
  ASSERT_TRUE(entry);
  EXPECT_EQ(field(*entry, "upstream_cluster"), "by-header");
  EXPECT_EQ(field(*entry, "upstream_host"), "[" + std::string(kIp6B) + "]:" + std::to_string(kOtherPort));
  // Not an address: counted, and the connection's destination is used.
  CommandResult bad =
      curlFromA(url(kIpB, kAppPort, "/bad"), {"x-envoy-original-dst-host: b.example:80", "Host: override.test"});
  EXPECT_NE(bad.out.find("server: app"), std::string::npos) << bad.out;
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_rq_original_dst_host_invalid_total", {{"cluster", "by-header"}}), 1);
}

TEST_F(DualStackPods, DestinationThatIsTheListenerIsRefused) {
  ASSERT_TRUE(startSidecarA(originalDstSidecar(dir_.path())));
  // Addressed to the listener itself (loopback is not captured): no
  // original destination, and connecting to the local address would loop.
  CommandResult direct = curlFromA("http://127.0.0.1:15001/direct");
  EXPECT_NE(direct.out.find("status=503"), std::string::npos) << direct.out;
  EXPECT_NE(direct.out.find("original_dst_loop"), std::string::npos) << direct.out;
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_original_dst_loop_total", {{"cluster", "pass"}}), 1);
  // A header naming the socket the request came in on (a REDIRECT from
  // the pod itself lands on 127.0.0.1, seen as ::ffff:127.0.0.1 by [::]).
  CommandResult named =
      curlFromA(url(kIpB, kAppPort, "/named"), {"x-envoy-original-dst-host: 127.0.0.1:15001", "Host: override.test"});
  EXPECT_NE(named.out.find("status=503"), std::string::npos) << named.out;
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_original_dst_loop_total", {{"cluster", "by-header"}}), 1);
  // Nothing was connected to.
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "pass"}}), 0);
  EXPECT_EQ(metric(ns_a_, "sluice_cluster_upstream_cx_total", {{"cluster", "by-header"}}), 0);
}

}  // namespace
}  // namespace sluice::itest
