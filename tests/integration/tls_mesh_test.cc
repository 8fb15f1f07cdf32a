// Two Sluice sidecars end to end: client -> A (plaintext in, mTLS out with
// A's workload certificate) -> B (mTLS in, authorizes A's SPIFFE ID,
// plaintext to the app) -> app, over HTTP and over tcp_proxy; a sidecar
// with a third identity is refused at B, and A refuses a B whose identity
// is not the expected one. Rotation: B's certificate is replaced while a
// transfer runs; the transfer completes, the next handshake presents the
// new certificate, and a bad file is rejected while the new one keeps serving.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const std::string kIdA = "spiffe://sluice.test/ns/default/sa/a";
const std::string kIdB = "spiffe://sluice.test/ns/default/sa/b";

// B: mTLS in with its workload certificate, only `allowed` may connect.
std::string sidecarB(const std::string& app, const std::string& allowed) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: inbound
    address: 127.0.0.1:0
    tls:
      certificates: [{cert_chain: )" + pkiPath("sidecar-b.crt") + ", private_key: " + pkiPath("sidecar-b.key") + R"(}]
      ca_bundle: )" + pkiPath("root.crt") + R"(
      require_client_cert: true
    authz:
      stat_prefix: inbound
      default_action: deny
      rules: [{name: sidecar-a, action: allow, principals: [{spiffe_id: {exact: ")" + allowed + R"("}}]}]
    http:
      access_log: {path: /dev/stdout, format: json}
      route_config:
        virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
clusters:
  - name: app
    connect_timeout: 1s
    endpoints: [{address: )" + app + "}]\n";
}

// A (or another client sidecar): plaintext in, over HTTP and TCP; mTLS out
// to B with the workload certificate `who`, expecting B to be `expect_peer`.
std::string sidecarA(uint16_t b_port, const std::string& who, const std::string& expect_peer) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: outbound
    address: 127.0.0.1:0
    http:
      route_config:
        virtual_hosts: [{name: b, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: b}}]}]
  - name: outbound_tcp
    address: 127.0.0.1:0
    tcp_proxy: {cluster: b}
clusters:
  - name: b
    connect_timeout: 2s
    tls:
      sni: localhost
      ca_bundle: )" + pkiPath("root.crt") + R"(
      cert_chain: )" + pkiPath(who + ".crt") + R"(
      private_key: )" + pkiPath(who + ".key") + R"(
      verify_spiffe_ids: [")" + expect_peer + R"("]
      alpn: [http/1.1]
    endpoints: [{address: 127.0.0.1:)" + std::to_string(b_port) + "}]\n";
}

class TlsMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki().ok()) << pki().dir();
    ASSERT_TRUE(app_.start());
  }
  BackendProcess app_{"app"};
};

TEST_F(TlsMeshTest, TwoSidecarsCarryTheWorkloadIdentity) {
  ProxyProcess b(sidecarB(app_.address(), kIdA));
  uint16_t b_port = 0;
  ASSERT_TRUE(startHttpProxy(b, &b_port, "inbound"));
  ProxyProcess a(sidecarA(b_port, "sidecar-a", kIdB));
  uint16_t a_port = 0;
  ASSERT_TRUE(startHttpProxy(a, &a_port, "outbound"));

  for (int i = 0; i < 5; ++i) {
    const HttpResponse r = httpRequest(a_port, "GET", "/via-a");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello from app\n");
  }
  // B saw A's identity; A pooled its mTLS connection.
  const auto entry = waitJsonEntry(b.dir() + "/stdout.log", "downstream_peer_uri_san", kIdA, 5s);
  ASSERT_TRUE(entry) << readFile(b.dir() + "/stdout.log");
  EXPECT_EQ((*entry)["downstream_tls_version"], "TLSv1.3");
  EXPECT_EQ((*entry)["requested_server_name"], "localhost");
  EXPECT_LE(metricOr0(a, "sluice_cluster_upstream_cx_total", {{"cluster", "b"}}), 2);

  // The same through tcp_proxy: TLS origination on an L4 hop.
  const auto tcp_port = a.listenerPort("outbound_tcp");
  ASSERT_TRUE(tcp_port);
  const HttpResponse t = httpRequest(*tcp_port, "GET", "/via-tcp");
  ASSERT_TRUE(t.ok()) << t.error;
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.body, "hello from app\n");
  EXPECT_TRUE(b.waitMetricAtLeast("sluice_authz_decisions_total",
                                  {{"stat_prefix", "inbound"}, {"action", "allow"}, {"rule", "sidecar-a"}}, 2));
}

TEST_F(TlsMeshTest, BRefusesAThirdIdentityAndAChecksB) {
  ProxyProcess b(sidecarB(app_.address(), kIdA));
  uint16_t b_port = 0;
  ASSERT_TRUE(startHttpProxy(b, &b_port, "inbound"));

  // A sidecar with a valid certificate of another workload: B's authz denies it.
  ProxyProcess third(sidecarA(b_port, "third", kIdB));
  uint16_t third_port = 0;
  ASSERT_TRUE(startHttpProxy(third, &third_port, "outbound"));
  const HttpResponse r = httpRequest(third_port, "GET", "/as-third");
  EXPECT_GE(r.status, 500) << r.body;
  EXPECT_TRUE(b.waitMetricAtLeast("sluice_authz_decisions_total",
                                  {{"stat_prefix", "inbound"}, {"action", "deny"}, {"rule", "default"}}, 1));
  // Directly, too.
  EXPECT_EQ(curlTls(b_port, "/", "third").status, 0);

  // A expecting another identity for B: the handshake fails, a connect failure (UF).
  ProxyProcess wary(sidecarA(b_port, "sidecar-a", "spiffe://sluice.test/ns/default/sa/not-b"));
  uint16_t wary_port = 0;
  ASSERT_TRUE(startHttpProxy(wary, &wary_port, "outbound"));
  const HttpResponse w = httpRequest(wary_port, "GET", "/");
  EXPECT_EQ(w.status, 503) << w.body;
  EXPECT_TRUE(wary.waitMetricAtLeast("sluice_cluster_upstream_cx_connect_fail_total", {{"cluster", "b"}}, 1));
}

TEST(TlsRotation, RotatedCertificateServesNewHandshakesWhileATransferCompletes) {
  ASSERT_TRUE(pki().ok()) << pki().dir();
  constexpr uint64_t kBytes = 6 << 20;
  HttpUpstream app(hugeResponse(7, kBytes));
  TempDir files;
  const std::string cert = files.path() + "/cert.pem", key = files.path() + "/key.pem";
  std::filesystem::copy_file(pkiPath("server.crt"), cert);
  std::filesystem::copy_file(pkiPath("server.key"), key);
  ProxyProcess b(R"(admin: {address: 127.0.0.1:0}
workers: 1
certificate_watch_interval: 100ms
listeners:
  - name: inbound
    address: 127.0.0.1:0
    tls:
      certificates: [{cert_chain: )" + cert + ", private_key: " + key + R"(}]
      ca_bundle: )" + pkiPath("root.crt") + R"(
      require_client_cert: true
    http:
      route_config:
        virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
clusters:
  - name: app
    endpoints: [{address: 127.0.0.1:)" + std::to_string(app.port()) + "}]\n");
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(b, &port, "inbound"));
  EXPECT_EQ(sClient(port, "localhost").subject, "CN = localhost");

  // A slow download (about 3 s) on one mTLS connection.
  const std::string out = files.path() + "/curl.out", err = files.path() + "/curl.err";
  const pid_t pid = spawnCommand(
      {"curl", "-sS", "--max-time", "20", "--limit-rate", "2M", "--cacert", pkiPath("root.crt"), "--cert",
       pkiPath("client.crt"), "--key", pkiPath("client.key"), "--resolve",
       "localhost:" + std::to_string(port) + ":127.0.0.1", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
       "https://localhost:" + std::to_string(port) + "/big"},
      out, err);
  ASSERT_GT(pid, 0);
  // (s_client above sent no client certificate: its handshake failed at B.)
  ASSERT_TRUE(b.waitMetricAtLeast("sluice_listener_downstream_cx_tls_total", {{"listener", "inbound"}}, 1));
  ASSERT_TRUE(waitUntil([&] { return app.requestCount() >= 1; }, 5s));

  // Rotate: new files renamed into place, as a secret volume update does.
  std::filesystem::copy_file(pkiPath("server-new.crt"), cert + ".tmp");
  std::filesystem::copy_file(pkiPath("server-new.key"), key + ".tmp");
  std::filesystem::rename(key + ".tmp", key);
  std::filesystem::rename(cert + ".tmp", cert);
  ASSERT_TRUE(b.waitMetricAtLeast("sluice_tls_certificate_reloads_total",
                                  {{"name", "listener/inbound"}, {"result", "success"}}, 1));
  EXPECT_EQ(sClient(port, "localhost").subject, "CN = localhost-rotated");
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the transfer ended before the rotation was checked";

  // The transfer that started on the old certificate completes.
  ASSERT_TRUE(waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 20s)) << readFile(err);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readFile(err);
  EXPECT_EQ(readFile(out), "200 " + std::to_string(kBytes)) << readFile(err);

  // A bad file is rejected and counted; the rotated certificate keeps serving.
  { std::ofstream(cert + ".tmp") << "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"; }
  std::filesystem::rename(cert + ".tmp", cert);
  ASSERT_TRUE(b.waitMetricAtLeast("sluice_tls_certificate_reloads_total",
                                  {{"name", "listener/inbound"}, {"result", "failure"}}, 1));
  EXPECT_EQ(sClient(port, "localhost").subject, "CN = localhost-rotated");
  const CurlResult after = curlTls(port, "/after", "client");
  EXPECT_EQ(after.status, 200) << after.describe();
  // SIGHUP re-reads the files too: still bad, counted again.
  ASSERT_TRUE(b.signal(SIGHUP));
  EXPECT_TRUE(b.waitMetricAtLeast("sluice_tls_certificate_reloads_total",
                                  {{"name", "listener/inbound"}, {"result", "failure"}}, 2));
}

}  // namespace
}  // namespace sluice::itest
