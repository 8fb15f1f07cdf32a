// A mesh gateway terminating HTTPS, through real processes: sluice-control
// reads the operator's certificate files named by a gateway listener's
// `tls:` and serves them over ADS (inline SDS secrets) to an edge sluice
// that has no file of its own. curl and openssl s_client see the
// certificate, HTTP/2 by ALPN, plaintext refused, MUTUAL's client
// certificate required, several certificates chosen by SNI, and a
// certificate file rewritten on disk served after the next reload (a bad
// one refused, the last good one serving on).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

uint16_t freePort() {
  Fd l = listenLoopback(1);
  return localPort(l.get());
}

// The name the gateway serves; the PKI's server certificate has *.sluice.test.
constexpr const char* kHost = "edge.sluice.test";

class MeshGatewayTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki().ok()) << "the test PKI was not generated (openssl)"; }

  // The mesh: service `web` (the upstream, outside the mesh: plaintext),
  // gateway `edge` with one listener whose tls block is `tls` (a flow mapping).
  std::string controlYaml(const std::string& tls) const {
    return "ads: {address: 127.0.0.1:0}\n"
           "admin: {address: 127.0.0.1:0}\n"
           "mesh:\n"
           "  services:\n"
           "    - name: web\n"
           "      ports: [{port: 8080}]\n"
           "      endpoints: [{address: " +
           web_.address() +
           "}]\n"
           "  gateways:\n"
           "    - name: edge\n"
           "      listeners:\n"
           "        - name: https\n"
           "          address: 127.0.0.1:" +
           std::to_string(port_) +
           "\n"
           "          tls: " +
           tls +
           "\n"
           "  routes:\n"
           "    - name: site\n"
           "      gateways: [edge]\n"
           "      rules:\n"
           "        - to: [{service: web}]\n";
  }

  // sluice-control on `tls`, and the edge proxy driven by it, serving.
  ::testing::AssertionResult start(const std::string& tls) {
    daemon_ = std::make_unique<ControlDaemonProcess>(controlYaml(tls));
    if (auto r = daemon_->start(); !r) return r;
    proxy_ = std::make_unique<ProxyProcess>("admin:\n  address: 127.0.0.1:0\ndynamic:\n  ads:\n    address: " +
                                            daemon_->adsAddress() + "\n    node: {id: edge.default, cluster: edge}\n");
    if (auto r = proxy_->start(); !r) return r;
    // The listener arrives over ADS: wait for its handshake.
    if (!waitUntil([&] { return sClient(port_, kHost).handshake; }, 10000ms))
      return ::testing::AssertionFailure() << "the gateway's TLS listener never came up";
    return ::testing::AssertionSuccess();
  }

  ControlledUpstream web_{"web"};
  uint16_t port_ = freePort();
  std::unique_ptr<ControlDaemonProcess> daemon_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(MeshGatewayTlsTest, SimpleServesHttpsWithTheOperatorsCertificateAndRefusesPlaintext) {
  ASSERT_TRUE(start("{cert_file: " + pkiPath("server.crt") + ", key_file: " + pkiPath("server.key") + "}"));
  const CurlResult https = curlTls(port_, "/", "", {}, kHost);
  EXPECT_EQ(https.status, 200) << https.describe();
  EXPECT_EQ(https.body, "web\n");
  // ALPN offers h2 by default: an HTTP/2 client gets HTTP/2.
  const CurlResult h2 = curlTls(port_, "/", "", {"--http2"}, kHost);
  EXPECT_EQ(h2.status, 200) << h2.describe();
  EXPECT_EQ(h2.headers_raw.rfind("HTTP/2", 0), 0u) << h2.headers_raw;
  const SClientResult s = sClient(port_, kHost, "h2,http/1.1");
  EXPECT_TRUE(s.handshake) << s.cmd.out;
  EXPECT_EQ(s.alpn, "h2");
  EXPECT_NE(s.subject.find("CN = localhost"), std::string::npos) << s.subject;
  // No client certificate is asked for.
  EXPECT_EQ(curlTls(port_, "/", "client", {}, kHost).status, 200);

  const CurlResult plain = curl({localUrl(port_, "/")}, 5000ms);
  EXPECT_NE(plain.status, 200) << plain.describe();
  EXPECT_FALSE(plain.ok()) << "plaintext HTTP got an answer from the TLS listener: " << plain.describe();

  // `check` shows the listener as TLS, with its certificate.
  const CommandResult check = runCommand({SLUICE_CONTROL_BIN, "check", "-c", daemon_->configPath()}, 10s);
  EXPECT_NE(check.out.find("https SIMPLE, alpn h2 http/1.1"), std::string::npos) << check.out << check.err;
  EXPECT_NE(check.out.find("certificate gateway_https_cert: CN=localhost, DNS localhost *.sluice.test, expires "),
            std::string::npos)
      << check.out;
}

TEST_F(MeshGatewayTlsTest, MutualServesOnlyClientsWithACertificateFromItsCa) {
  ASSERT_TRUE(start("{mode: MUTUAL, cert_file: " + pkiPath("server.crt") + ", key_file: " + pkiPath("server.key") +
                    ", ca_file: " + pkiPath("root.crt") + "}"));
  const CurlResult none = curlTls(port_, "/", "", {}, kHost);
  EXPECT_FALSE(none.ok()) << none.describe();
  EXPECT_NE(none.status, 200);
  const CurlResult stranger = curlTls(port_, "/", "stranger", {}, kHost);  // another CA's
  EXPECT_FALSE(stranger.ok()) << stranger.describe();
  EXPECT_NE(stranger.status, 200);
  const CurlResult client = curlTls(port_, "/", "client", {}, kHost);
  EXPECT_EQ(client.status, 200) << client.describe();
  EXPECT_EQ(client.body, "web\n");
}

// Per-host certificates: the proxy picks by SNI from each leaf's DNS names;
// the first serves any other name.
TEST_F(MeshGatewayTlsTest, SeveralCertificatesAreChosenBySni) {
  ASSERT_TRUE(start("{certificates: [{cert_file: " + pkiPath("server.crt") + ", key_file: " + pkiPath("server.key") +
                    "}, {cert_file: " + pkiPath("server2.crt") + ", key_file: " + pkiPath("server2.key") + "}]}"));
  const SClientResult api = sClient(port_, "api.other.test");
  EXPECT_TRUE(api.handshake) << api.cmd.out;
  EXPECT_NE(api.subject.find("CN = api.other.test"), std::string::npos) << api.subject;
  EXPECT_NE(sClient(port_, kHost).subject.find("CN = localhost"), std::string::npos);
  EXPECT_NE(sClient(port_, "unknown.example").subject.find("CN = localhost"), std::string::npos);
  const CurlResult r = curlTls(port_, "/", "", {}, "api.other.test");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "web\n");
}

TEST_F(MeshGatewayTlsTest, ARewrittenCertificateIsServedAndABadOneIsRefused) {
  TempDir files;
  const std::string crt = files.path() + "/edge.crt", key = files.path() + "/edge.key";
  auto copy = [](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to + ".tmp", std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(to + ".tmp", to);
  };
  copy(pkiPath("server.crt"), crt);
  copy(pkiPath("server.key"), key);
  ASSERT_TRUE(start("{cert_file: " + crt + ", key_file: " + key + "}"));
  EXPECT_NE(sClient(port_, kHost).subject.find("CN = localhost"), std::string::npos);

  // A rotation: the same names, a new key.
  copy(pkiPath("server-new.key"), key);
  copy(pkiPath("server-new.crt"), crt);
  SClientResult s;
  EXPECT_TRUE(waitUntil(
      [&] {
        s = sClient(port_, kHost);
        return s.subject.find("localhost-rotated") != std::string::npos;
      },
      10000ms))
      << "still " << s.subject;
  EXPECT_EQ(curlTls(port_, "/", "", {}, kHost).status, 200);

  // A certificate that is not the key's: refused; the rotated one serves on.
  const double rejected = daemon_->metric("sluice_control_config_rejections_total").value_or(0);
  copy(pkiPath("server2.crt"), crt);
  EXPECT_TRUE(waitUntil(
      [&] { return daemon_->metric("sluice_control_config_rejections_total").value_or(0) > rejected; }, 10000ms));
  EXPECT_NE(sClient(port_, kHost).subject.find("localhost-rotated"), std::string::npos);
  EXPECT_EQ(curlTls(port_, "/", "", {}, kHost).status, 200);
}

}  // namespace
}  // namespace sluice::itest
