// The certificate agent in the real binary against a real gRPC CA (the test
// fixture sluice-test-ca): a TLS listener naming the agent's secret
// `default` waits for the first certificate, then serves the issued leaf
// with its SPIFFE ID to openssl s_client; a rotation (ttl of seconds, and
// POST /certs/rotate) swaps the certificate under a running transfer, on
// the same socket, without a drain. Over xDS, an inline secret whose content
// changes under its name swaps the same way.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <regex>
#include <string>

#include "tests/integration/support/ads_server.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/test_ca_process.h"
#include "tests/integration/support/tls_setup.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

struct Served {
  std::string serial;  // "serial=..." of the leaf the server sent
  std::string sans;    // its subjectAltName extension, as openssl prints it
  bool verified = false;
};

// What a TLS client sees at 127.0.0.1:port, verified against `root`.
Served served(uint16_t port, const std::string& root) {
  const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              " -servername localhost -CAfile " + root + " </dev/null 2>/dev/null";
  Served s;
  const CommandResult chat = runCommand({"sh", "-c", connect}, 10s);
  s.verified = chat.out.find("Verify return code: 0 (ok)") != std::string::npos;
  const CommandResult leaf =
      runCommand({"sh", "-c", connect + " | openssl x509 -noout -serial -ext subjectAltName"}, 10s);
  std::smatch m;
  if (std::regex_search(leaf.out, m, std::regex("serial=([0-9A-F]+)"))) s.serial = m[1];
  if (auto at = leaf.out.find("URI:"); at != std::string::npos)
    s.sans = leaf.out.substr(at, leaf.out.find('\n', at) - at);
  return s;
}

std::string agentConfig(const TestCaProcess& ca, const std::string& token_file, uint16_t app_port,
                        const std::string& ttl) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 1
certificate_watch_interval: 200ms
node: {id: web-1}
dynamic:
  ca:
    address: )" +
         ca.address() + R"(
    plaintext: true
    token_file: )" +
         token_file + R"(
    ttl: )" +
         ttl + R"(
listeners:
  - name: inbound
    address: 127.0.0.1:0
    tls:
      certificates: [{secret: default}]
    http:
      route_config:
        virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
clusters:
  - name: app
    endpoints: [{address: 127.0.0.1:)" +
         std::to_string(app_port) + "}]\n";
}

TEST(CertAgent, IssuedCertificateServesAndRotatesUnderATransferWithoutADrain) {
  TestCaProcess ca({"tok-web=ns/default/sa/web"});
  ASSERT_TRUE(ca.ok()) << ca.stderrText();
  TempDir files;
  const std::string token = files.write("token", "tok-web\n");
  constexpr uint64_t kBytes = 16 << 20;
  HttpUpstream app(hugeResponse(3, kBytes));
  // Renewed at 3 s ± 0.6 s: a rotation a test can watch.
  ProxyProcess proxy(agentConfig(ca, token, app.port(), "6s"));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));
  const Served first = served(port, ca.rootPath());
  EXPECT_TRUE(first.verified) << "the chain verifies against the CA's root";
  EXPECT_EQ(first.sans, "URI:spiffe://sluice.test/ns/default/sa/web");
  ASSERT_FALSE(first.serial.empty());
  EXPECT_TRUE(proxy.waitMetricEq("sluice_identity_certificate_requests_total", {{"result", "ok"}}, 1, 1s));
  const auto expiry = proxy.metric("sluice_identity_certificate_expiry_seconds");
  ASSERT_TRUE(expiry);
  EXPECT_GT(*expiry, 0);
  EXPECT_LE(*expiry, 6);
  // /certs shows the identity, the issuer and the expiry.
  const std::string certs = proxy.get("/certs").body;
  EXPECT_NE(certs.find("\"spiffe_id\": \"spiffe://sluice.test/ns/default/sa/web\""), std::string::npos) << certs;
  EXPECT_NE(certs.find("\"issuer\": \"/CN=sluice test CA\""), std::string::npos) << certs;
  EXPECT_NE(certs.find("\"seconds_to_expiry\""), std::string::npos) << certs;

  // A slow download (6 s or more) on one connection across the rotation.
  const std::string out = files.path() + "/curl.out", err = files.path() + "/curl.err";
  const pid_t pid =
      spawnCommand({"curl", "-sSk", "--max-time", "30", "--limit-rate", "2M", "-o", "/dev/null", "-w",
                    "%{http_code} %{size_download}", "https://127.0.0.1:" + std::to_string(port) + "/big"},
                   out, err);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(waitUntil([&] { return app.requestCount() >= 1; }, 5s));
  ASSERT_TRUE(proxy.waitMetricAtLeast("sluice_identity_certificate_requests_total", {{"result", "ok"}}, 2, 8s));
  ASSERT_TRUE(proxy.waitMetricAtLeast("sluice_tls_certificate_reloads_total",
                                      {{"name", "listener/inbound"}, {"result", "success"}}, 1, 2s));
  const Served second = served(port, ca.rootPath());
  EXPECT_TRUE(second.verified);
  EXPECT_NE(second.serial, first.serial) << "new handshakes get the new certificate";
  EXPECT_EQ(second.sans, first.sans);
  EXPECT_EQ(proxy.listenerPort("inbound"), port) << "the same socket: nothing was rebound";
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the transfer ended before the rotation was checked";
  ASSERT_TRUE(waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 30s)) << readFile(err);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readFile(err);
  EXPECT_EQ(readFile(out), "200 " + std::to_string(kBytes)) << readFile(err);
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_drain_closed_total", {{"listener", "inbound"}}), 0);
}

TEST(CertAgent, ListenerWaitsForTheFirstCertificateAndTheCurrentOneOutlivesAFailingCa) {
  TestCaProcess ca({"tok-web=ns/default/sa/web"});
  ASSERT_TRUE(ca.ok()) << ca.stderrText();
  ca.failWith("CA is down for maintenance");
  TempDir files;
  const std::string token = files.write("token", "tok-web\n");
  HttpUpstream app(hugeResponse(1, 10));
  ProxyProcess proxy(agentConfig(ca, token, app.port(), "1h"));
  ASSERT_TRUE(proxy.start());
  ASSERT_TRUE(proxy.waitMetricAtLeast("sluice_identity_certificate_requests_total", {{"result", "error"}}, 1));
  EXPECT_FALSE(proxy.listenerPort("inbound")) << "no certificate yet: the listener waits";
  EXPECT_NE(proxy.stderrText().find("UNAVAILABLE: CA is down for maintenance"), std::string::npos)
      << "the failure is logged with the CA's reason";
  ca.recover();
  const auto port = proxy.waitListener("inbound", 10s);
  ASSERT_TRUE(port) << proxy.get("/listeners").body;
  const Served first = served(*port, ca.rootPath());
  EXPECT_EQ(first.sans, "URI:spiffe://sluice.test/ns/default/sa/web");

  // The CA fails again: an early rotation is refused, the certificate serves on.
  ca.failWith("CA is down again");
  const double errors = metricOr0(proxy, "sluice_identity_certificate_requests_total", {{"result", "error"}});
  const HttpResponse rotate = proxy.post("/certs/rotate");
  EXPECT_EQ(rotate.status, 200) << rotate.body;
  ASSERT_TRUE(proxy.waitMetricAtLeast("sluice_identity_certificate_requests_total", {{"result", "error"}}, errors + 1));
  EXPECT_EQ(served(*port, ca.rootPath()).serial, first.serial);
  // Back again: the next retry (within 2 s) issues, and it swaps in place.
  ca.recover();
  ASSERT_TRUE(proxy.waitMetricAtLeast("sluice_identity_certificate_requests_total", {{"result", "ok"}}, 2, 10s));
  ASSERT_TRUE(waitUntil([&] { return served(*port, ca.rootPath()).serial != first.serial; }, 3s));
  EXPECT_EQ(proxy.listenerPort("inbound"), port);
}

}  // namespace
}  // namespace sluice::itest
