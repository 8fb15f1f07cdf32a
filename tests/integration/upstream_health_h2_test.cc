// Active health checks over HTTP/2 through the real binary:
// - `http: {codec: http2}` against Node's http2 server
//   (support/protocol_server.js, which counts the checks per HTTP version):
//   h2c with prior knowledge on plaintext, h2 by ALPN on TLS; a 503 fails
//   the host, a killed server fails it, and both come back.
// - `grpc:` (grpc.health.v1.Health/Check) against a @grpc/grpc-js server
//   (support/grpc_health_server.js) whose status the test flips with a
//   signal: the host's health in /clusters follows, and so does traffic.

#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/integration/support/command.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/node_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

constexpr const char* kChecks = "interval: 200ms, timeout: 2s, unhealthy_threshold: 1, healthy_threshold: 1";

std::string h2CheckedCluster(uint16_t port, const std::string& extra = "") {
  return R"(
    - name: up
      connect_timeout: 5s
      protocol: http2
)" + extra + R"(      health_check: {)" + kChecks + R"(, http: {path: /healthz, codec: http2}}
      endpoints: )" + endpointsFlow({port});
}

// GET /counts straight from the upstream (TLS when `tls`).
nlohmann::json upstreamCounts(uint16_t port, bool tls) {
  const CurlResult r = tls ? curlTls(port, "/counts", "", {"--http1.1"})
                           : curl({"--http2-prior-knowledge", localUrl(port, "/counts")});
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

// What the server saw of the checks: over HTTP/2 only.
void expectChecksOverHttp2(uint16_t port, bool tls) {
  const nlohmann::json counts = upstreamCounts(port, tls);
  EXPECT_GE(counts["healthz"].value("2.0", 0), 1) << counts.dump();
  EXPECT_EQ(counts["healthz"].value("1.1", 0), 0) << counts.dump();
}

void setHealth(uint16_t port, bool tls, int status) {
  const std::string path = "/health/set?" + std::to_string(status);
  const CurlResult r = tls ? curlTls(port, path, "", {"--http1.1"})
                           : curl({"--http2-prior-knowledge", localUrl(port, path)});
  ASSERT_EQ(r.status, 200) << r.describe();
}

TEST(UpstreamHealthHttp2, PlaintextH2cCheckFollowsStatusAndLiveness) {
  NodeUpstream up("protocol_server.js", {"h2c"});
  ASSERT_TRUE(up.start());
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), h2CheckedCluster(up.port())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const std::string host = up.address();

  ASSERT_TRUE(waitChecked(proxy, "up", host));
  EXPECT_EQ(clusterField(proxy, "up", host, "health_flags"), "healthy");
  expectChecksOverHttp2(up.port(), /*tls=*/false);

  setHealth(up.port(), false, 503);
  ASSERT_TRUE(waitFailedActiveHc(proxy, "up", host));
  setHealth(up.port(), false, 200);
  ASSERT_TRUE(waitHealthy(proxy, "up", host));

  up.stop();
  ASSERT_TRUE(waitFailedActiveHc(proxy, "up", host));
  ASSERT_TRUE(up.start());  // same port; its health starts at 200
  ASSERT_TRUE(waitHealthy(proxy, "up", host, Millis(10000)));
  const CurlResult r = curl({localUrl(port, "/after")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-protocol"), "2.0");
}

TEST(UpstreamHealthHttp2, TlsCheckNegotiatesH2) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream up("protocol_server.js", {"h2"}, {pkiPath("server.crt"), pkiPath("server.key")});
  ASSERT_TRUE(up.start());
  // An auto cluster: the check offers what data connections offer (h2,
  // http/1.1) and this server picks h2.
  const std::string cluster = R"(
    - name: up
      connect_timeout: 5s
      protocol: auto
      tls: {sni: localhost, ca_bundle: )" + pkiPath("root.crt") + R"(}
      health_check: {)" + kChecks + R"(, http: {path: /healthz, codec: http2}}
      endpoints: )" + endpointsFlow({up.port()});
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), cluster));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const std::string host = up.address();

  ASSERT_TRUE(waitChecked(proxy, "up", host));
  expectChecksOverHttp2(up.port(), /*tls=*/true);
  setHealth(up.port(), true, 503);
  ASSERT_TRUE(waitFailedActiveHc(proxy, "up", host));
  setHealth(up.port(), true, 200);
  ASSERT_TRUE(waitHealthy(proxy, "up", host));
}

// An HTTP/1 check of an auto cluster offers only http/1.1, so a server that
// would pick h2 for data connections still answers the check in HTTP/1.1.
TEST(UpstreamHealthHttp2, Http1CheckOfAnAutoTlsClusterOffersOnlyHttp11) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream up("protocol_server.js", {"h2"}, {pkiPath("server.crt"), pkiPath("server.key")});
  ASSERT_TRUE(up.start());
  const std::string cluster = R"(
    - name: up
      connect_timeout: 5s
      protocol: auto
      tls: {sni: localhost, ca_bundle: )" + pkiPath("root.crt") + R"(}
      health_check: {)" + kChecks + R"(, http: {path: /healthz}}
      endpoints: )" + endpointsFlow({up.port()});
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), cluster));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const std::string host = up.address();

  ASSERT_TRUE(waitChecked(proxy, "up", host));
  ASSERT_TRUE(waitHealthy(proxy, "up", host));
  setHealth(up.port(), true, 503);
  ASSERT_TRUE(waitFailedActiveHc(proxy, "up", host));
  setHealth(up.port(), true, 200);
  ASSERT_TRUE(waitHealthy(proxy, "up", host));
  // Data connections still negotiate h2.
  const CurlResult r = curl({localUrl(port, "/after")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-protocol"), "2.0");
}

// ---- gRPC ----

std::string grpcCheckedCluster(const std::vector<uint16_t>& ports, const std::string& service) {
  return R"(
    - name: grpc
      connect_timeout: 5s
      protocol: http2
      health_check: {)" + std::string(kChecks) + R"(, grpc: {service_name: ")" + service + R"("}}
      endpoints: )" + endpointsFlow(ports);
}

double hostRequests(const ProxyProcess& proxy, const NodeUpstream& up) {
  return metricOr0(proxy, "sluice_host_rq_total", {{"cluster", "grpc"}, {"host", up.address()}});
}

TEST(UpstreamHealthGrpc, HostHealthFollowsServingStatusAndTrafficFollows) {
  ASSERT_TRUE(haveGrpcNodeDeps());
  NodeUpstream a("grpc_health_server.js", {}), b("grpc_health_server.js", {});
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  ProxyProcess proxy(upstreamConfig(routeAllTo("grpc"), grpcCheckedCluster({a.port(), b.port()}, "sluice.test.Echo")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const std::string target = "127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(waitChecked(proxy, "grpc", a.address()));
  ASSERT_TRUE(waitChecked(proxy, "grpc", b.address()));

  // A says NOT_SERVING: it is failed, and calls go to B only.
  a.signal(SIGUSR1);
  ASSERT_TRUE(waitFailedActiveHc(proxy, "grpc", a.address()));
  EXPECT_EQ(clusterField(proxy, "grpc", b.address(), "health_flags"), "healthy");
  const double a_before = hostRequests(proxy, a), b_before = hostRequests(proxy, b);
  const nlohmann::json calls = runGrpcClient("concurrent", target, {"20", "4"});
  EXPECT_EQ(calls.value("ok", -1), 20) << calls.dump();
  EXPECT_EQ(hostRequests(proxy, a), a_before);
  EXPECT_GE(hostRequests(proxy, b), b_before + 20);

  // SERVING again: both take traffic.
  a.signal(SIGUSR2);
  ASSERT_TRUE(waitHealthy(proxy, "grpc", a.address()));
  const nlohmann::json more = runGrpcClient("concurrent", target, {"40", "4"});
  EXPECT_EQ(more.value("ok", -1), 40) << more.dump();
  EXPECT_GT(hostRequests(proxy, a), a_before);

  // Killed: failed; restarted on the same port: healthy.
  a.stop();
  ASSERT_TRUE(waitFailedActiveHc(proxy, "grpc", a.address()));
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(waitHealthy(proxy, "grpc", a.address(), Millis(10000)));
}

// A service the server does not know is NOT_FOUND (grpc-status 5): a failure.
TEST(UpstreamHealthGrpc, UnknownServiceFailsTheCheck) {
  ASSERT_TRUE(haveGrpcNodeDeps());
  NodeUpstream a("grpc_health_server.js", {});
  ASSERT_TRUE(a.start());
  ProxyProcess proxy(upstreamConfig(routeAllTo("grpc"), grpcCheckedCluster({a.port()}, "no.such.Service")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  ASSERT_TRUE(waitFailedActiveHc(proxy, "grpc", a.address()));
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_host_health_checks_total",
                                      {{"cluster", "grpc"}, {"host", a.address()}, {"result", "failure"}}, 2));
  EXPECT_EQ(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "grpc"}, {"host", a.address()}, {"result", "success"}}),
            0);
}

}  // namespace
}  // namespace sluice::itest
