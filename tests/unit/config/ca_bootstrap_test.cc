// The bootstrap's `dynamic.ca`: the certificate agent's settings, its
// address defaulting to the ADS server's, and its secret counting as
// present for the TLS blocks that name it.
#include <gtest/gtest.h>

#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::loadOk;

TEST(CaBootstrap, ReadsTheAgentsSettings) {
  auto cfg = loadOk(
      "dynamic:\n  ca:\n    address: ca.example:15012\n    token_file: /var/run/sluice/token\n"
      "    ttl: 12h\n    secret_name: workload\n");
  ASSERT_TRUE(cfg);
  ASSERT_TRUE(cfg->bootstrap.ca);
  const CaSpec& ca = *cfg->bootstrap.ca;
  EXPECT_EQ(ca.address, "ca.example:15012");
  EXPECT_EQ(ca.token_file, "/var/run/sluice/token");
  EXPECT_EQ(ca.ttl, std::chrono::hours(12));
  EXPECT_EQ(ca.secret_name, "workload");
  EXPECT_EQ(cfg->bootstrap.config_source.kind, ConfigSourceSpec::Kind::File) << "resources still come from the file";
}

TEST(CaBootstrap, DefaultsToTheAdsServerAndTheSecretDefault) {
  auto cfg = loadOk(
      "dynamic:\n  ads: {address: 127.0.0.1:15010, node: {id: a}}\n  ca: {token_file: /t, ttl: 5s}\n");
  ASSERT_TRUE(cfg);
  ASSERT_TRUE(cfg->bootstrap.ca);
  EXPECT_EQ(cfg->bootstrap.ca->address, "127.0.0.1:15010");
  EXPECT_EQ(cfg->bootstrap.ca->secret_name, "default");
  EXPECT_EQ(cfg->bootstrap.ca->ttl, std::chrono::seconds(5)) << "seconds, for tests that watch a rotation";
  EXPECT_TRUE(cfg->bootstrap.providesSecret("default"));
  EXPECT_FALSE(cfg->bootstrap.providesSecret("ROOTCA"));
}

TEST(CaBootstrap, TheAgentsSecretCountsAsPresentForTlsBlocks) {
  const std::string listener =
      "listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tls: {certificates: [{secret: default}]}\n"
      "    tcp_proxy: {cluster: c}\n"
      "clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n    tls: {certificate_secret: default}\n";
  auto cfg = loadOk("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t}}\n" + listener);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->listeners[0].tls->certificates, std::vector<std::string>{"default"});
  EXPECT_EQ(cfg->clusters[0].tls->certificate, "default");
  // Without the agent nothing provides it.
  EXPECT_EQ(errorsOf(listener),
            (testing::Errors{"t.yaml:4:10: listeners[0].tls.certificates[0]: unknown secret 'default'",
                             "t.yaml:9:10: clusters[0].tls.cert_chain: unknown secret 'default'"}));
}

TEST(CaBootstrap, ErrorsNameTheField) {
  EXPECT_EQ(errorsOf("dynamic: {ca: {token_file: /t}}\n"),
            (testing::Errors{
                "t.yaml:1:15: dynamic.ca.address: missing required field (there is no dynamic.ads.address to default to)"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: nope, token_file: /t}}\n"),
            (testing::Errors{"t.yaml:1:25: dynamic.ca.address: expected host:port, got 'nope'"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1}}\n"),
            (testing::Errors{"t.yaml:1:15: dynamic.ca.token_file: missing required field"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, ttl: 1s}}\n"),
            (testing::Errors{"t.yaml:1:59: dynamic.ca.ttl: must be at least 2s (the certificate is renewed at half of it)"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, secret_name: ''}}\n"),
            (testing::Errors{"t.yaml:1:67: dynamic.ca.secret_name: must not be empty"}));
  EXPECT_EQ(errorsOf("dynamic: {ca: {address: 127.0.0.1:1, token_file: /t, rotate: now}}\n"),
            (testing::Errors{"t.yaml:1:54: dynamic.ca: unknown field 'rotate'"}));
  EXPECT_EQ(errorsOf("listeners:\n  - name: l\n    address: 127.0.0.1:0\n"
                     "    tls: {certificates: [{secret: x, cert_chain: /a, private_key: /b}]}\n    tcp_proxy: {cluster: c}\n"
                     "clusters: [{name: c, endpoints: [{address: 127.0.0.1:1}]}]\n"),
            (testing::Errors{"t.yaml:4:10: listeners[0].tls.certificates[0]: unknown secret 'x'",
                             "t.yaml:4:26: listeners[0].tls.certificates[0]: give either secret or cert_chain and private_key"}));
}

}  // namespace
}  // namespace sluice::config
