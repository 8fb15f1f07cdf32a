// The bootstrap's `dynamic.ca`: the certificate agent's settings, the mesh
// root it verifies the CA's port with (or an explicit plaintext), and its
// secret counting as present for the TLS blocks that name it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "config/ca_root.h"
#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::loadOk;

constexpr const char* kPem = "-----BEGIN CERTIFICATE-----";

TEST(CaBootstrap, ReadsTheAgentsSettings) {
  auto cfg = loadOk(
      "dynamic:\n  ca:\n    address: ca.example:15012\n    token_file: /var/run/sluice/token\n"
      "    ttl: 12h\n    secret_name: workload\n    root_pem: |\n      " +
      std::string(kPem) + "\n");
  ASSERT_TRUE(cfg);
  ASSERT_TRUE(cfg->bootstrap.ca);
  const CaSpec& ca = *cfg->bootstrap.ca;
  EXPECT_EQ(ca.address, "ca.example:15012");
  EXPECT_EQ(ca.token_file, "/var/run/sluice/token");
  EXPECT_EQ(ca.ttl, std::chrono::hours(12));
  EXPECT_EQ(ca.secret_name, "workload");
  const SecretSpec* root = cfg->findSecret(kCaRootSecretName);
  ASSERT_TRUE(root) << "the root is TLS material: a secret";
  EXPECT_EQ(root->kind, SecretSpec::Kind::ValidationContext);
  EXPECT_EQ(root->trusted_ca, std::string(kPem) + "\n");
  EXPECT_EQ(cfg->bootstrap.config_source.kind, ConfigSourceSpec::Kind::File) << "resources still come from the file";
}

TEST(CaBootstrap, DefaultsToTheSecretDefault) {
  auto cfg = loadOk(
      "dynamic:\n  ads: {address: 127.0.0.1:15010, node: {id: a}}\n"
      "  ca: {address: 127.0.0.1:15012, plaintext: true, token_file: /t, ttl: 5s}\n");
  ASSERT_TRUE(cfg);
  ASSERT_TRUE(cfg->bootstrap.ca);
  EXPECT_EQ(cfg->findSecret(kCaRootSecretName), nullptr) << "plaintext: no root";
  EXPECT_EQ(cfg->bootstrap.ca->secret_name, "default");
  EXPECT_EQ(cfg->bootstrap.ca->ttl, std::chrono::seconds(5)) << "seconds, for tests that watch a rotation";
  EXPECT_TRUE(cfg->bootstrap.providesSecret("default"));
  EXPECT_FALSE(cfg->bootstrap.providesSecret("ROOTCA"));
}

// The root from a file is checked with the bootstrap and named by the
// secret: the agent reads it again at every call (a rotation written there).
TEST(CaBootstrap, TheRootFileIsCheckedWithTheBootstrap) {
  const std::string path = ::testing::TempDir() + "ca-root-" + std::to_string(::getpid()) + ".pem";
  std::ofstream(path) << kPem << "\nfile\n";
  auto cfg = loadOk("dynamic:\n  ca:\n    address: 127.0.0.1:15012\n    token_file: /t\n    root_file: " + path + "\n");
  ASSERT_TRUE(cfg);
  const SecretSpec* root = cfg->findSecret(kCaRootSecretName);
  ASSERT_TRUE(root);
  EXPECT_FALSE(root->inline_pem);
  EXPECT_EQ(root->trusted_ca, path);
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, root_pem: '" + std::string(kPem) +
                     "', root_file: " + path + "}}\n"),
            (testing::Errors{"t.yaml:1:106: dynamic.ca.root_file: give root_file or root_pem, not both"}));
  std::ofstream(path) << "not a certificate\n";
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, root_file: " + path + "}}\n"),
            (testing::Errors{"t.yaml:1:65: dynamic.ca.root_file: '" + path + "' holds no PEM certificate"}));
  ::unlink(path.c_str());
  EXPECT_EQ(
      errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, root_file: " + path + "}}\n"),
      (testing::Errors{"t.yaml:1:65: dynamic.ca.root_file: cannot read '" + path + "': No such file or directory"}));
}

TEST(CaBootstrap, TheAgentsSecretCountsAsPresentForTlsBlocks) {
  const std::string listener =
      "listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tls: {certificates: [{secret: default}]}\n"
      "    tcp_proxy: {cluster: c}\n"
      "clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n    tls: {certificate_secret: default}\n";
  auto cfg = loadOk("dynamic: {ca: {address: 127.0.0.1:1, plaintext: true, token_file: /t}}\n" + listener);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->listeners[0].tls->certificates, std::vector<std::string>{"default"});
  EXPECT_EQ(cfg->clusters[0].tls->certificate, "default");
  // Without the agent nothing provides it.
  EXPECT_EQ(errorsOf(listener),
            (testing::Errors{"t.yaml:4:10: listeners[0].tls.certificates[0]: unknown secret 'default'",
                             "t.yaml:9:10: clusters[0].tls.cert_chain: unknown secret 'default'"}));
}

TEST(CaBootstrap, ErrorsNameTheField) {
  EXPECT_EQ(errorsOf("dynamic: {ca: {token_file: /t, plaintext: true}}\n"),
            (testing::Errors{"t.yaml:1:15: dynamic.ca.address: missing required field"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: nope, token_file: /t, plaintext: true}}\n"),
            (testing::Errors{"t.yaml:1:25: dynamic.ca.address: expected host:port, got 'nope'"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, plaintext: true}}\n"),
            (testing::Errors{"t.yaml:1:15: dynamic.ca.token_file: missing required field"}));
  EXPECT_EQ(
      errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, plaintext: true, ttl: 1s}}\n"),
      (testing::Errors{"t.yaml:1:76: dynamic.ca.ttl: must be at least 2s (the certificate is renewed at half of it)"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, plaintext: true, secret_name: ''}}\n"),
            (testing::Errors{"t.yaml:1:84: dynamic.ca.secret_name: must not be empty"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, plaintext: true, rotate: now}}\n"),
            (testing::Errors{"t.yaml:1:71: dynamic.ca: unknown field 'rotate'"}));
  // Neither a root nor plaintext: a CA call never goes out unverified by accident.
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t}}\n"),
            (testing::Errors{"t.yaml:1:15: dynamic.ca: needs root_file or root_pem (the mesh root the CA's serving "
                             "certificate chains to), or plaintext: true (the token then crosses the network in the "
                             "clear)"}));
  EXPECT_EQ(
      errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, plaintext: true, root_pem: '" + std::string(kPem) +
               "'}}\n"),
      (testing::Errors{"t.yaml:1:65: dynamic.ca.plaintext: plaintext: true verifies nothing: drop it or the root"}));
  EXPECT_EQ(
      errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, root_pem: nope}}\n"),
      (testing::Errors{"t.yaml:1:64: dynamic.ca.root_pem: expected PEM certificates (-----BEGIN CERTIFICATE-----)"}));
  EXPECT_EQ(
      errorsOf("listeners:\n  - name: l\n    address: 127.0.0.1:0\n"
               "    tls: {certificates: [{secret: x, cert_chain: /a, private_key: /b}]}\n    tcp_proxy: {cluster: c}\n"
               "clusters: [{name: c, endpoints: [{address: 127.0.0.1:1}]}]\n"),
      (testing::Errors{
          "t.yaml:4:10: listeners[0].tls.certificates[0]: unknown secret 'x'",
          "t.yaml:4:26: listeners[0].tls.certificates[0]: give either secret or cert_chain and private_key"}));
}

}  // namespace
}  // namespace sluice::config
