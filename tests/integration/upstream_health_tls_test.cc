// Active HTTP health checks of a `tls:` cluster: the check speaks mTLS with
// the cluster's certificate and verifies the upstream exactly as a data
// connection does. The upstream is a second sluice terminating mTLS
// (client certificate required) in front of an app whose health endpoint
// the test flips. A host whose identity is not the expected SPIFFE ID fails
// its checks at the handshake.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const std::string kIdB = "spiffe://sluice.test/ns/default/sa/b";

// The mTLS upstream: sidecar-b's certificate, clients must present one from
// the test root; everything goes to `app` in plaintext.
std::string tlsSidecar(const std::string& app) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 1
listeners:
  - name: inbound
    address: 127.0.0.1:0
    tls:
      certificates: [{cert_chain: )" + pkiPath("sidecar-b.crt") + ", private_key: " + pkiPath("sidecar-b.key") + R"(}]
      ca_bundle: )" + pkiPath("root.crt") + R"(
      require_client_cert: true
    http:
      route_config:
        virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
clusters:
  - name: app
    connect_timeout: 1s
    endpoints: [{address: )" + app + "}]\n";
}

// A cluster to the sidecar over mTLS with sidecar-a's certificate,
// expecting the peer to be `expect_peer`, checked over HTTP every 200 ms.
std::string tlsCluster(const std::string& name, uint16_t port, const std::string& expect_peer) {
  return R"(
    - name: )" + name + R"(
      connect_timeout: 1s
      tls:
        sni: localhost
        ca_bundle: )" + pkiPath("root.crt") + R"(
        cert_chain: )" + pkiPath("sidecar-a.crt") + R"(
        private_key: )" + pkiPath("sidecar-a.key") + R"(
        verify_spiffe_ids: [")" + expect_peer + R"("]
      health_check: {interval: 200ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1,
                     http: {path: /healthz}}
      endpoints: )" + endpointsFlow({port});
}

// The app and the mTLS sidecar in front of it, started for each test.
class UpstreamActiveHealthCheckTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki().ok()) << pki().dir();
    ASSERT_TRUE(startHttpProxy(sidecar, &sidecar_port, "inbound"));
    host = "127.0.0.1:" + std::to_string(sidecar_port);
  }

  ControlledUpstream app{"app"};
  ProxyProcess sidecar{tlsSidecar(app.address())};
  uint16_t sidecar_port = 0;
  std::string host;  // the sidecar as /clusters and the metrics name it
};

TEST_F(UpstreamActiveHealthCheckTls, HttpCheckOverMtlsFollowsTheHealthEndpoint) {
  ProxyProcess proxy(upstreamConfig(routeAllTo("b"), tlsCluster("b", sidecar_port, kIdB)));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // Checks pass: they went through the handshake and reached the app's health endpoint.
  ASSERT_TRUE(waitChecked(proxy, "b", host));
  EXPECT_EQ(clusterField(proxy, "b", host, "health_flags"), "healthy");
  EXPECT_EQ(metricOr0(proxy, "sluice_host_active_check_healthy", {{"cluster", "b"}, {"host", host}}), 1);
  EXPECT_EQ(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "b"}, {"host", host}, {"result", "failure"}}),
            0);
  EXPECT_GE(app.healthChecks(), 1u);
  EXPECT_TRUE(sidecar.waitMetricAtLeast("sluice_listener_downstream_cx_tls_total", {{"listener", "inbound"}}, 1));
  const HttpResponse r = httpRequest(port, "GET", "/data");
  EXPECT_EQ(r.status, 200) << r.error << r.body;

  // The health endpoint fails: two failed checks take the host out.
  app.setHealthStatus(503);
  ASSERT_TRUE(waitFailedActiveHc(proxy, "b", host));
  EXPECT_EQ(metricOr0(proxy, "sluice_host_active_check_healthy", {{"cluster", "b"}, {"host", host}}), 0);
  EXPECT_EQ(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "b"}, {"host", host}, {"result", "timeout"}}),
            0);

  // And back.
  app.setHealthStatus(200);
  ASSERT_TRUE(waitHealthy(proxy, "b", host));
  EXPECT_EQ(metricOr0(proxy, "sluice_host_active_check_healthy", {{"cluster", "b"}, {"host", host}}), 1);
}

// The same upstream checked by a cluster that expects another identity:
// the handshake fails on every check, a failure (not a timeout), and the
// host is marked although its health endpoint is fine.
TEST_F(UpstreamActiveHealthCheckTls, UnexpectedPeerIdentityFailsTheCheck) {
  ProxyProcess proxy(upstreamConfig(routeAllTo("good"), tlsCluster("good", sidecar_port, kIdB) +
                                                            tlsCluster("wary", sidecar_port,
                                                                       "spiffe://sluice.test/ns/default/sa/not-b")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  ASSERT_TRUE(waitFailedActiveHc(proxy, "wary", host));
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_host_health_checks_total",
                                      {{"cluster", "wary"}, {"host", host}, {"result", "failure"}}, 2));
  EXPECT_EQ(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "wary"}, {"host", host}, {"result", "timeout"}}),
            0);
  EXPECT_EQ(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "wary"}, {"host", host}, {"result", "success"}}),
            0);
  // Meanwhile the cluster that expects the right identity finds it healthy.
  ASSERT_TRUE(waitChecked(proxy, "good", host));
  EXPECT_EQ(clusterField(proxy, "good", host, "health_flags"), "healthy");
}

// A reload that changes only the cluster's `tls` block keeps the health
// monitor (and its verdicts) but not its old TLS settings: the next checks
// use the new provider.
TEST_F(UpstreamActiveHealthCheckTls, ReloadedTlsBlockAppliesToTheNextChecks) {
  ProxyProcess proxy(upstreamConfig(routeAllTo("b"), tlsCluster("b", sidecar_port, kIdB)));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  ASSERT_TRUE(waitChecked(proxy, "b", host));

  proxy.writeConfig(
      upstreamConfig(routeAllTo("b"), tlsCluster("b", sidecar_port, "spiffe://sluice.test/ns/default/sa/not-b")));
  HttpResponse r = proxy.post("/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(waitFailedActiveHc(proxy, "b", host));

  proxy.writeConfig(upstreamConfig(routeAllTo("b"), tlsCluster("b", sidecar_port, kIdB)));
  r = proxy.post("/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(waitHealthy(proxy, "b", host));
}

}  // namespace
}  // namespace sluice::itest
