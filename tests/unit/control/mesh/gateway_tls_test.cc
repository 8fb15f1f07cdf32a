// HTTPS on a gateway listener: the `tls:` block as read (files checked with
// their line), the gateway's computed config (a TLS listener naming inline
// secrets that hold the files' PEM), its golden document, and a changed
// file reaching the gateway on the next load.
//
// Certificates are made here with the openssl CLI, with fixed dates so that
// the golden file's expiry line holds. SLUICE_UPDATE_GOLDEN=1 rewrites the
// golden file.

#include "control/mesh/gateway_tls.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "control/control_config.h"
#include "control/mesh/proxy_config.h"
#include "tests/unit/control/ca/ca_test_support.h"
#include "tests/unit/control/mesh/mesh_test_support.h"

namespace sluice::control::mesh {
namespace {

using ca::test::readText;
using ca::test::sh;
using ca::test::TempDir;
using ca::test::writeText;

// A CA and leaves issued by `openssl ca` for 2026-01-01..2036-01-01:
// edge (edge.sluice.test), edge2 (the same name, a new key: a rotation),
// api (api.sluice.test, for SNI); the CA's own certificate has no DNS name.
constexpr const char* kPki = R"SH(set -e
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=Gateway Test CA" -out ca.crt \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
mkdir -p db && : > db/index.txt && echo 1000 > db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = c
[c]
dir = db
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
unique_subject = no
policy = p
[p]
commonName = supplied
CNF
leaf() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key
  openssl req -new -key $1.key -subj "/CN=$2" -out $1.csr
  printf "subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" "$2" > $1.ext
  openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in $1.csr -out $1.crt -extfile $1.ext \
    -startdate 20260101000000Z -enddate 20360101000000Z -notext
}
leaf edge edge.sluice.test
leaf edge2 edge.sluice.test
leaf api api.sluice.test
echo not a certificate > junk.pem
)SH";

class GatewayTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    writeText(dir_ / "gen.sh", kPki);
    const auto r = sh("cd '" + dir_.path() + "' && sh gen.sh");
    ASSERT_EQ(r.status, 0) << r.out;
    file_ = dir_ / "control.yaml";
  }

  // The mesh with `tls` (lines at 12 spaces of indent) as the https
  // listener's block, which starts on line 13.
  static std::string meshWith(const std::string& tls) {
    return "mesh:\n"                                             // 1
           "  services:\n"                                       // 2
           "    - name: web\n"                                   // 3
           "      ports: [{port: 8080}]\n"                       // 4
           "      endpoints: [{address: 127.0.0.1:9999}]\n"      // 5
           "  gateways:\n"                                       // 6
           "    - name: edge\n"                                  // 7
           "      listeners:\n"                                  // 8
           "        - {name: http, address: 127.0.0.1:18080}\n"  // 9
           "        - name: https\n"                             // 10
           "          address: 127.0.0.1:18443\n"                // 11
           "          tls:\n" +                                  // 12
           tls +
           "  routes:\n"
           "    - name: site\n"
           "      gateways: [edge]\n"
           "      hosts: [edge.sluice.test]\n"
           "      rules:\n"
           "        - to: [{service: web}]\n";
  }

  ControlLoadResult load(const std::string& tls, ProxyConfigCache* cache = nullptr) {
    return loadControlString(meshWith(tls), file_, cache);
  }

  std::vector<std::string> errorsOf(const std::string& tls) {
    const ControlLoadResult r = load(tls);
    EXPECT_FALSE(r.config);
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.str());
    return out;
  }

  // "<dir>/control.yaml:LINE:COL: mesh.gateways[0].listeners[1].tls<path>:
  // <message>"
  std::string at(int line, int col, const std::string& path, const std::string& message) const {
    return file_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": mesh.gateways[0].listeners[1].tls" +
           path + ": " + message;
  }

  static const ProxyConfig* edge(const ControlConfig& cfg) {
    return test::findProxy(cfg.mesh_proxies, "gateway/default/edge");
  }

  static const config::SecretSpec* secret(const config::Config& cfg, const std::string& name) {
    for (const auto& s : cfg.secrets)
      if (s.name == name) return &s;
    return nullptr;
  }

  TempDir dir_;
  std::string file_;
};

constexpr const char* kMutual =
    "            mode: MUTUAL\n"
    "            cert_file: edge.crt\n"
    "            key_file: edge.key\n"
    "            ca_file: ca.crt\n";

TEST_F(GatewayTlsTest, ReadsTheFilesAndWhatTheCertificateSays) {
  const ControlLoadResult r = load(kMutual);
  ASSERT_TRUE(r.config) << r.errorText();
  const auto& listeners = r.config->mesh->gateways.at(0).listeners;
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_FALSE(listeners[0].tls);
  ASSERT_TRUE(listeners[1].tls);
  const GatewayTls& t = *listeners[1].tls;
  EXPECT_TRUE(t.mutual);
  EXPECT_EQ(t.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  ASSERT_EQ(t.certificates.size(), 1u);
  EXPECT_EQ(t.certificates[0].cert_file,
            dir_ / "edge.crt");  // from control.yaml's folder
  EXPECT_EQ(t.certificates[0].cert_pem, readText(dir_ / "edge.crt"));
  EXPECT_EQ(t.certificates[0].key_pem, readText(dir_ / "edge.key"));
  EXPECT_EQ(t.certificates[0].subject, "CN=edge.sluice.test");
  EXPECT_EQ(t.certificates[0].dns_names, std::vector<std::string>{"edge.sluice.test"});
  EXPECT_EQ(t.certificates[0].not_after, "2036-01-01T00:00:00Z");
  EXPECT_EQ(t.ca_pem, readText(dir_ / "ca.crt"));
  EXPECT_EQ(gatewayTlsFiles(*r.config->mesh),
            (std::vector<std::string>{dir_ / "edge.crt", dir_ / "edge.key", dir_ / "ca.crt"}));
}

TEST_F(GatewayTlsTest, TheGatewayTerminatesTlsWithInlineSecretsOfTheFiles) {
  const ControlLoadResult r = load(kMutual);
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* p = edge(*r.config);
  ASSERT_TRUE(p && p->config);
  const config::ListenerConfig* plain = test::findListener(*p->config, "gateway_http");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->tls);
  const config::ListenerConfig* https = test::findListener(*p->config, "gateway_https");
  ASSERT_TRUE(https && https->tls);
  EXPECT_EQ(https->address.str(), "127.0.0.1:18443");
  EXPECT_EQ(https->tls->certificates, std::vector<std::string>{"gateway_https_cert"});
  EXPECT_EQ(https->tls->validation_context, "gateway_https_ca");
  EXPECT_TRUE(https->tls->require_client_cert);
  EXPECT_EQ(https->tls->alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  // The PEM travels in the secrets (SDS inline), not the paths: the edge
  // proxy reads no file.
  const config::SecretSpec* cert = secret(*p->config, "gateway_https_cert");
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->kind, config::SecretSpec::Kind::TlsCertificate);
  EXPECT_TRUE(cert->inline_pem);
  EXPECT_EQ(cert->cert_chain, readText(dir_ / "edge.crt"));
  EXPECT_EQ(cert->private_key, readText(dir_ / "edge.key"));
  const config::SecretSpec* ca = secret(*p->config, "gateway_https_ca");
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->kind, config::SecretSpec::Kind::ValidationContext);
  EXPECT_TRUE(ca->inline_pem);
  EXPECT_EQ(ca->trusted_ca, readText(dir_ / "ca.crt"));
  // What `sluice-control check` prints of it.
  EXPECT_NE(p->summary.find("listener gateway_https  127.0.0.1:18443  https "
                            "MUTUAL, alpn h2 http/1.1"),
            std::string::npos)
      << p->summary;
  EXPECT_NE(p->summary.find("certificate gateway_https_cert: CN=edge.sluice.test, "
                            "DNS edge.sluice.test, expires "
                            "2036-01-01T00:00:00Z"),
            std::string::npos)
      << p->summary;
}

TEST_F(GatewayTlsTest, SimpleAsksNoClientCertificateAndAlpnCanBeNarrowed) {
  const ControlLoadResult r = load(
      "            cert_file: edge.crt\n"
      "            key_file: edge.key\n"
      "            alpn: [http/1.1]\n");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* p = edge(*r.config);
  ASSERT_TRUE(p && p->config);
  const config::ListenerConfig* https = test::findListener(*p->config, "gateway_https");
  ASSERT_TRUE(https && https->tls);
  EXPECT_FALSE(https->tls->require_client_cert);
  EXPECT_TRUE(https->tls->validation_context.empty());
  EXPECT_EQ(https->tls->alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_FALSE(secret(*p->config, "gateway_https_ca"));
}

TEST_F(GatewayTlsTest, SeveralCertificatesAreChosenBySni) {
  const ControlLoadResult r = load(
      "            certificates:\n"
      "              - {cert_file: edge.crt, key_file: edge.key}\n"
      "              - {cert_file: api.crt, key_file: api.key}\n");
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* p = edge(*r.config);
  ASSERT_TRUE(p && p->config);
  const config::ListenerConfig* https = test::findListener(*p->config, "gateway_https");
  ASSERT_TRUE(https && https->tls);
  EXPECT_EQ(https->tls->certificates, (std::vector<std::string>{"gateway_https_cert", "gateway_https_cert_1"}));
  const config::SecretSpec* api = secret(*p->config, "gateway_https_cert_1");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->cert_chain, readText(dir_ / "api.crt"));
}

TEST_F(GatewayTlsTest, TheGatewayMatchesItsGoldenFile) {
  const ControlLoadResult r = load(kMutual);
  ASSERT_TRUE(r.config) << r.errorText();
  const ProxyConfig* p = edge(*r.config);
  ASSERT_TRUE(p && p->config);
  std::string text;
  for (size_t at = 0, nl; at < p->summary.size(); at = nl + 1) {
    nl = p->summary.find('\n', at);
    text += "# " + p->summary.substr(at, nl - at) + "\n";
  }
  text += p->yaml;
  const std::string path =
      std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/mesh/golden/tls_gateway_default_edge.yaml";
  if (std::getenv("SLUICE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << text;
    return;
  }
  EXPECT_EQ(readText(path), text) << "differs from " << path << " (SLUICE_UPDATE_GOLDEN=1 rewrites it)";
}

TEST_F(GatewayTlsTest, EachMistakeNamesItsLine) {
  // Line 13 is the block's first key, at column 13.
  EXPECT_EQ(errorsOf("            cert_file: edge.crt\n"),
            std::vector<std::string>{at(13, 13, ".key_file", "missing required field")});
  EXPECT_EQ(errorsOf("            cert_file: nope.crt\n"
                     "            key_file: edge.key\n"),
            std::vector<std::string>{
                at(13, 24, ".cert_file", "'" + (dir_ / "nope.crt") + "': cannot read: No such file or directory")});
  EXPECT_EQ(
      errorsOf("            cert_file: junk.pem\n"
               "            key_file: edge.key\n"),
      std::vector<std::string>{at(13, 24, ".cert_file", "'" + (dir_ / "junk.pem") + "' holds no PEM certificate")});
  EXPECT_EQ(errorsOf("            cert_file: edge.crt\n"
                     "            key_file: edge.crt\n"),
            std::vector<std::string>{
                at(14, 23, ".key_file", "'" + (dir_ / "edge.crt") + "' holds no unencrypted PEM private key")});
  EXPECT_EQ(errorsOf("            cert_file: edge.crt\n"
                     "            key_file: api.key\n"),
            std::vector<std::string>{
                at(14, 23, ".key_file",
                   "'" + (dir_ / "api.key") + "' is not the key of the certificate in '" + (dir_ / "edge.crt") + "'")});
  EXPECT_EQ(errorsOf("            mode: MUTUAL\n"
                     "            cert_file: edge.crt\n"
                     "            key_file: edge.key\n"),
            std::vector<std::string>{at(13, 19, ".ca_file",
                                        "missing: mode MUTUAL needs ca_file to "
                                        "verify client certificates against")});
  EXPECT_EQ(errorsOf("            mode: PASSTHROUGH\n"
                     "            cert_file: edge.crt\n"
                     "            key_file: edge.key\n"),
            std::vector<std::string>{at(13, 19, ".mode", "must be SIMPLE or MUTUAL")});
  EXPECT_EQ(errorsOf("            cert_file: edge.crt\n"
                     "            key_file: edge.key\n"
                     "            ca_file: ca.crt\n"),
            std::vector<std::string>{
                at(15, 22, ".ca_file", "ca_file is for mode MUTUAL (SIMPLE asks no client certificate)")});
  EXPECT_EQ(errorsOf("            mode: MUTUAL\n"
                     "            cert_file: edge.crt\n"
                     "            key_file: edge.key\n"
                     "            ca_file: junk.pem\n"),
            std::vector<std::string>{at(16, 22, ".ca_file", "'" + (dir_ / "junk.pem") + "' holds no PEM certificate")});
  EXPECT_EQ(
      errorsOf("            cert_file: edge.crt\n"
               "            key_file: edge.key\n"
               "            alpn: []\n"),
      std::vector<std::string>{at(15, 19, ".alpn", "needs at least one protocol (leave it out for h2, http/1.1)")});
  // Past the first, a certificate without a DNS name could never be chosen.
  EXPECT_EQ(errorsOf("            certificates:\n"
                     "              - {cert_file: edge.crt, key_file: edge.key}\n"
                     "              - {cert_file: ca.crt, key_file: ca.key}\n"),
            std::vector<std::string>{at(15, 17, ".certificates[1]",
                                        "its certificate has no DNS name, so no "
                                        "client's SNI could choose it (only "
                                        "certificates[0] serves without one)")});
  EXPECT_EQ(errorsOf("            cert_file: edge.crt\n"
                     "            key_file: edge.key\n"
                     "            certificates: [{cert_file: api.crt, "
                     "key_file: api.key}]\n"),
            std::vector<std::string>{at(13, 24, ".cert_file", "give either cert_file and key_file, or certificates")});
  const auto unknown = errorsOf(
      "            credentialName: edge-cert\n"
      "            cert_file: edge.crt\n"
      "            key_file: edge.key\n");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], file_ +
                            ":13:13: mesh.gateways[0].listeners[1].tls: "
                            "unknown field 'credentialName'");
}

// A file that changes under the same name is read again on the next load:
// the gateway is recomputed (its other parts did not change) and its secret
// holds the new PEM under the same name; a bad new file fails the load (the
// daemon keeps serving the last good one).
TEST_F(GatewayTlsTest, AChangedFileReachesTheGatewayOnTheNextLoad) {
  ProxyConfigCache cache;
  const ControlLoadResult first = load(kMutual, &cache);
  ASSERT_TRUE(first.config) << first.errorText();
  const size_t computed = cache.computed;
  const ControlLoadResult same = load(kMutual, &cache);
  ASSERT_TRUE(same.config);
  EXPECT_EQ(cache.computed, computed) << "nothing changed: the gateway is reused";

  writeText(dir_ / "edge.crt", readText(dir_ / "edge2.crt"));
  writeText(dir_ / "edge.key", readText(dir_ / "edge2.key"));
  const ControlLoadResult rotated = load(kMutual, &cache);
  ASSERT_TRUE(rotated.config) << rotated.errorText();
  EXPECT_EQ(cache.computed, computed + 1);
  const ProxyConfig* p = edge(*rotated.config);
  ASSERT_TRUE(p && p->config);
  const config::SecretSpec* cert = secret(*p->config, "gateway_https_cert");
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->cert_chain, readText(dir_ / "edge2.crt"));
  EXPECT_EQ(cert->private_key, readText(dir_ / "edge2.key"));
  // The group's input (what tells sluice-control's snapshot builder a
  // changed group) differs too, though the document names the same secrets.
  auto input = [](const ControlConfig& cfg) {
    for (const auto& g : cfg.groups)
      if (g.name == "gateway/default/edge") return g.input;
    return std::string();
  };
  EXPECT_EQ(edge(*first.config)->yaml, p->yaml);
  EXPECT_NE(input(*first.config), input(*rotated.config));

  // Half a rotation: the new certificate beside the old key.
  writeText(dir_ / "edge.crt", readText(dir_ / "api.crt"));
  const ControlLoadResult half = load(kMutual, &cache);
  EXPECT_FALSE(half.config);
  ASSERT_EQ(half.errors.size(), 1u);
  EXPECT_NE(half.errors[0].str().find("is not the key of the certificate"), std::string::npos) << half.errorText();
}

}  // namespace
}  // namespace sluice::control::mesh
