// Downstream TLS through the real binary, with curl, openssl s_client and
// sslscan as clients and a test PKI generated at test time: STRICT mTLS
// accepts a valid client certificate and refuses a missing one, one from
// another CA and an expired one; PERMISSIVE takes TLS and plaintext on one
// port; SNI picks the certificate and the filter chain; ALPN is negotiated;
// a stalled handshake times out; nothing below TLS 1.2 and no weak cipher;
// /certs and /config_dump show paths, never key material. Also the shipped
// config/examples/mtls.yaml, run as is (ports aside).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <regex>
#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

class TlsListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki().ok()) << "openssl could not generate the test PKI in " << pki().dir();
    ASSERT_TRUE(app_.start());
  }

  // One HTTP listener `name` routing everything to the app, behind `tls`
  // (YAML flow mapping, or empty for none) and `extra` listener keys.
  std::string config(const std::string& tls, const std::string& extra = "") const {
    return R"(admin: {address: 127.0.0.1:0}
workers: 1
certificate_watch_interval: 200ms
listeners:
  - name: inbound
    address: 127.0.0.1:0
)" + (tls.empty() ? std::string() : "    tls: " + tls + "\n") +
           extra + R"(    http:
      access_log: {path: /dev/stdout, format: json}
      route_config:
        virtual_hosts:
          - name: app
            domains: ["*"]
            routes: [{match: {prefix: /}, route: {cluster: app}}]
clusters:
  - name: app
    connect_timeout: 1s
    endpoints: [{address: )" + app_.address() + "}]\n";
  }

  static std::string certs(const std::string& stem = "server") {
    return "{cert_chain: " + pkiPath(stem + ".crt") + ", private_key: " + pkiPath(stem + ".key") + "}";
  }
  static std::string mtls(const std::string& mode = "strict") {
    return "{mode: " + mode + ", certificates: [" + certs() + "], ca_bundle: " + pkiPath("root.crt") +
           ", require_client_cert: true, handshake_timeout: 2s}";
  }

  BackendProcess app_{"app"};
};

double counter(const ProxyProcess& proxy, const std::string& name) {
  return metricOr0(proxy, name, {{"listener", "inbound"}});
}

TEST_F(TlsListenerTest, StrictMtlsAcceptsValidClientAndRefusesTheRest) {
  ProxyProcess proxy(config(mtls()));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));

  const CurlResult ok = curlTls(port, "/ok", "client");
  ASSERT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hello from app\n");
  // The peer identity reaches the access log.
  EXPECT_TRUE(waitJsonEntry(proxy.dir() + "/stdout.log", "downstream_peer_uri_san",
                            "spiffe://sluice.test/ns/default/sa/client", 5s))
      << readFile(proxy.dir() + "/stdout.log");

  for (const std::string who : {"", "stranger", "expired"}) {
    const CurlResult r = curlTls(port, "/refused", who);
    EXPECT_FALSE(r.ok() && r.status == 200) << (who.empty() ? "no certificate" : who) << ": " << r.describe();
    EXPECT_EQ(r.status, 0) << who;
  }
  // Plaintext on a STRICT port fails the handshake too.
  const HttpResponse plain = httpRequest(port, "GET", "/plain");
  EXPECT_EQ(plain.status, 0) << plain.body;
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_listener_downstream_cx_tls_handshake_failed_total",
                                      {{"listener", "inbound"}}, 4));
  EXPECT_EQ(counter(proxy, "sluice_listener_downstream_cx_tls_total"), 1);
}

TEST_F(TlsListenerTest, PermissiveTakesMtlsAndPlaintextOnOnePort) {
  ProxyProcess proxy(config(mtls("permissive")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));
  const CurlResult tls = curlTls(port, "/tls", "client");
  ASSERT_TRUE(tls.ok()) << tls.describe();
  EXPECT_EQ(tls.status, 200);
  const HttpResponse plain = httpRequest(port, "GET", "/plain");
  ASSERT_TRUE(plain.ok()) << plain.error;
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, "hello from app\n");
  // TLS clients still need a valid certificate.
  EXPECT_EQ(curlTls(port, "/nocert").status, 0);
  EXPECT_EQ(counter(proxy, "sluice_listener_downstream_cx_tls_total"), 1);
  // Identity only on the TLS request.
  ASSERT_TRUE(waitJsonEntry(proxy.dir() + "/stdout.log", "path", "/plain", 5s));
  const std::string log = readFile(proxy.dir() + "/stdout.log");
  EXPECT_NE(log.find(R"("path":"/tls")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("downstream_peer_uri_san":null)"), std::string::npos) << log;
}

TEST_F(TlsListenerTest, SniPicksTheCertificateAndAlpnIsNegotiated) {
  const std::string tls = "{certificates: [" + certs("server") + ", " + certs("server2") + "], alpn: [h2, http/1.1]}";
  ProxyProcess proxy(config(tls));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));

  const SClientResult other = sClient(port, "api.other.test", "http/1.1");
  EXPECT_TRUE(other.handshake) << other.cmd.out << other.cmd.err;
  EXPECT_EQ(other.subject, "CN = api.other.test") << other.cmd.out;
  EXPECT_EQ(other.alpn, "http/1.1");
  const SClientResult wildcard = sClient(port, "api.sluice.test", "h2,http/1.1");
  EXPECT_EQ(wildcard.subject, "CN = localhost") << wildcard.cmd.out;
  EXPECT_EQ(wildcard.alpn, "h2");  // server preference
  EXPECT_EQ(wildcard.version, "TLSv1.3");
  const SClientResult unknown = sClient(port, "nobody.example", "");
  EXPECT_EQ(unknown.subject, "CN = localhost") << unknown.cmd.out;  // the first is the default
  EXPECT_EQ(unknown.alpn, "");

  const CurlResult r = curlTls(port, "/", "", {"--http1.1"}, "api.other.test");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(waitJsonEntry(proxy.dir() + "/stdout.log", "requested_server_name", "api.other.test", 5s))
      << readFile(proxy.dir() + "/stdout.log");
}

TEST_F(TlsListenerTest, FilterChainsChosenBySniAlpnAndTransport) {
  auto direct = [](const std::string& body) {
    return R"(
        http:
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes: [{match: {prefix: /}, direct_response: {status: 200, body: ")" +
           body + R"("}}]
)";
  };
  ProxyProcess proxy(R"(admin: {address: 127.0.0.1:0}
workers: 1
listeners:
  - name: inbound
    address: 127.0.0.1:0
    filter_chains:
      - match: {server_names: [api.other.test]}
        tls: {certificates: [)" + certs("server2") + R"(]})" +
                     direct("other") + R"(      - match: {server_names: ["*.sluice.test"], application_protocols: [http/1.1]}
        tls: {certificates: [)" + certs("server") + R"(]})" +
                     direct("wildcard") + R"(      - match: {transport_protocol: raw_buffer})" + direct("plain") + R"(
clusters: []
)");
  ASSERT_TRUE(proxy.start());
  const auto port = proxy.waitListener("inbound");
  ASSERT_TRUE(port);

  const CurlResult other = curlTls(*port, "/", "", {}, "api.other.test");
  EXPECT_EQ(other.body, "other") << other.describe();
  const CurlResult wildcard = curlTls(*port, "/", "", {"--http1.1"}, "x.sluice.test");
  EXPECT_EQ(wildcard.body, "wildcard") << wildcard.describe();
  const HttpResponse plain = httpRequest(*port, "GET", "/");
  EXPECT_EQ(plain.body, "plain") << plain.error;
  // No chain for this name, nor for TLS without the right ALPN: closed, counted.
  EXPECT_EQ(curlTls(*port, "/", "", {}, "localhost").status, 0);
  const SClientResult no_alpn = sClient(*port, "x.sluice.test");
  EXPECT_FALSE(no_alpn.handshake) << no_alpn.cmd.out;
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_no_filter_chain_total", {{"listener", "inbound"}}, 2));
}

TEST_F(TlsListenerTest, StalledHandshakesTimeOut) {
  ProxyProcess proxy(config(
      "{certificates: [" + certs() + "], handshake_timeout: 300ms}"));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));
  Fd silent = connectLoopback(port);
  ASSERT_TRUE(silent);
  const auto started = Clock::now();
  const ReadToClose r = readUntilClosed(silent.get(), Deadline(5s));
  EXPECT_NE(r.how, CloseKind::kTimeout);
  EXPECT_GE(msSince(started), 250);
  EXPECT_LE(msSince(started), 3000);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_tls_handshake_timeout_total",
                                 {{"listener", "inbound"}}, 1));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_active", {{"listener", "inbound"}}, 0));
}

TEST_F(TlsListenerTest, SslscanFindsNothingBelowTls12AndNoWeakCipher) {
  if (!haveExecutable("sslscan")) GTEST_SKIP() << "sslscan not installed";
  ProxyProcess proxy(config("{certificates: [" + certs() + "]}"));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));
  const CommandResult r = runCommand(
      {"sslscan", "--no-colour", "--no-heartbleed", "127.0.0.1:" + std::to_string(port)}, Millis(60000));
  ASSERT_TRUE(r.status.has_value()) << "sslscan timed out";
  const std::string& out = r.out;
  for (const char* off : {"SSLv2     disabled", "SSLv3     disabled", "TLSv1.0   disabled", "TLSv1.1   disabled"})
    EXPECT_NE(out.find(off), std::string::npos) << off << "\n" << out;
  EXPECT_NE(out.find("TLSv1.2   enabled"), std::string::npos) << out;
  EXPECT_NE(out.find("TLSv1.3   enabled"), std::string::npos) << out;
  // Every accepted cipher: TLS 1.2+, at least 128 bits, AEAD, forward secret.
  const std::regex accepted(R"(^(Preferred|Accepted)\s+(\S+)\s+(\d+) bits\s+(\S+))");
  int count = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, accepted)) continue;
    ++count;
    EXPECT_TRUE(m[2] == "TLSv1.2" || m[2] == "TLSv1.3") << line;
    EXPECT_GE(std::stoi(m[3]), 128) << line;
    const std::string cipher = m[4];
    EXPECT_TRUE(cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos) << line;
    if (m[2] == "TLSv1.2") {
      EXPECT_EQ(cipher.rfind("ECDHE-", 0), 0u) << line;
    }
    for (const char* weak : {"RC4", "DES", "NULL", "EXP", "MD5", "CBC", "anon"})
      EXPECT_EQ(cipher.find(weak), std::string::npos) << line;
  }
  EXPECT_GE(count, 4) << out;  // TLS 1.3's three and some TLS 1.2 ones
}

TEST_F(TlsListenerTest, AdminListsCertificatesAndDumpsOnlyPaths) {
  ProxyProcess proxy(config(mtls()));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));
  const HttpResponse certs = proxy.get("/certs");
  ASSERT_EQ(certs.status, 200);
  EXPECT_NE(certs.body.find(R"("name": "listener/inbound")"), std::string::npos) << certs.body;
  EXPECT_NE(certs.body.find(R"("subject": "/CN=localhost")"), std::string::npos) << certs.body;
  EXPECT_NE(certs.body.find("DNS:*.sluice.test"), std::string::npos) << certs.body;
  EXPECT_NE(certs.body.find("seconds_to_expiry"), std::string::npos) << certs.body;
  const auto expiry = proxy.metric("sluice_tls_certificate_expiry_seconds", {{"name", "listener/inbound"}});
  ASSERT_TRUE(expiry);
  EXPECT_GT(*expiry, 300 * 86400.0);  // a one-year test certificate
  const HttpResponse dump = proxy.get("/config_dump");
  EXPECT_NE(dump.body.find(pkiPath("server.key")), std::string::npos) << dump.body;
  EXPECT_EQ(dump.body.find("PRIVATE KEY"), std::string::npos);
  const HttpResponse reload = proxy.post("/certs/reload");
  EXPECT_EQ(reload.status, 200) << reload.body;
  EXPECT_TRUE(proxy.waitMetricEq("sluice_tls_certificate_reloads_total",
                                 {{"name", "listener/inbound"}, {"result", "success"}}, 1));
}

TEST_F(TlsListenerTest, ConfigReloadKeepsTheProviderAndRejectsABadCertificate) {
  TempDir files;
  const std::string bad = files.write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const std::string good = config(mtls());
  ProxyProcess proxy(good);
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "inbound"));
  ASSERT_EQ(curlTls(port, "/", "client").status, 200);
  // Unchanged TLS config: the same provider (its version stays 1), same port.
  ASSERT_EQ(proxy.post("/reload").status, 200);
  EXPECT_NE(proxy.get("/certs").body.find(R"("version": 1)"), std::string::npos) << proxy.get("/certs").body;
  EXPECT_EQ(proxy.listenerPort("inbound"), port);
  // A certificate that does not load rejects the whole reload.
  std::string broken = good;
  const std::string from = pkiPath("server.crt");
  broken.replace(broken.find(from), from.size(), bad);
  proxy.writeConfig(broken);
  const HttpResponse r = proxy.post("/reload");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("listeners[0].tls: "), std::string::npos) << r.body;
  EXPECT_EQ(curlTls(port, "/still", "client").status, 200);
  EXPECT_EQ(metricOr0(proxy, "sluice_server_config_reloads_total", {{"result", "failed"}}), 1);
}

TEST_F(TlsListenerTest, MissingCertificateFileIsAConfigError) {
  TempDir dir;
  const std::string path = dir.write(
      "bad.yaml", "listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tls: {certificates: [{cert_chain: "
                  "/nonexistent/c.pem, private_key: " + pkiPath("server.key") + "}]}\n    tcp_proxy: {cluster: c}\n"
                  "clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n");
  const CommandResult v = runSluice({"validate", "-c", path});
  ASSERT_TRUE(v.status);
  EXPECT_TRUE(exitedWith(v.status, 1)) << v.out << v.err;
  EXPECT_TRUE(std::regex_search(v.out + v.err, std::regex(R"(bad\.yaml:4:\d+: listeners\[0\]\.tls\.certificates\[0\])"
                                                          R"(\.cert_chain: cannot read '/nonexistent/c\.pem')")))
      << v.out << v.err;
}

TEST(MtlsExample, ShippedMtlsExampleServesTheAllowedPeerOnly) {
  ASSERT_TRUE(pki().ok());
  BackendProcess app("app");
  ASSERT_TRUE(app.start());
  std::string yaml;
  ASSERT_TRUE(shippedExample("mtls.yaml",
                             {{"address: 127.0.0.1:9901", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:10443", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:18080", "address: " + app.address()}},
                             &yaml));
  ::setenv("SLUICE_CERT", pkiPath("server.crt").c_str(), 1);
  ::setenv("SLUICE_KEY", pkiPath("server.key").c_str(), 1);
  ::setenv("SLUICE_CA", pkiPath("root.crt").c_str(), 1);
  ProxyProcess proxy(yaml);
  ASSERT_TRUE(proxy.start());
  const auto port = proxy.waitListener("inbound");
  ASSERT_TRUE(port);

  const CurlResult ok = curlTls(*port, "/", "client");
  ASSERT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hello from app\n");
  // A valid certificate with another identity: the handshake passes, authz closes.
  const CurlResult third = curlTls(*port, "/", "third");
  EXPECT_EQ(third.status, 0) << third.describe();
  EXPECT_EQ(curlTls(*port, "/", "").status, 0);
  EXPECT_EQ(httpRequest(*port, "GET", "/").status, 0);
  EXPECT_TRUE(waitJsonEntry(proxy.dir() + "/stdout.log", "downstream_peer_uri_san",
                            "spiffe://sluice.test/ns/default/sa/client", 5s))
      << readFile(proxy.dir() + "/stdout.log");
}

}  // namespace
}  // namespace sluice::itest
