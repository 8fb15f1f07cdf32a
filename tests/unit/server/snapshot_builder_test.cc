// SnapshotBuilder with the resources a config names: certificate providers
// built from the TLS blocks' secrets, and what it does when a resource that
// arrives on its own (a secret, a load assignment) is missing.
#include "proxy/server/snapshot_builder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "config/loader.h"
#include "tests/integration/support/test_pki.h"

namespace sluice::server {
namespace {

using sluice::testing::TestPki;

// A TLS listener and a cluster of two endpoints, as loaded from YAML: its
// paths lifted into secrets, its endpoints into a load assignment.
constexpr const char* kConfig = R"(listeners:
  - name: l
    address: 127.0.0.1:0
    tls:
      certificates:
        - cert_chain: ${SLUICE_TEST_CHAIN}
          private_key: ${SLUICE_TEST_KEY}
      ca_bundle: ${SLUICE_TEST_CA}
    tcp_proxy: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}, {address: 127.0.0.1:2}]
)";

class SnapshotBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.dir();
    ::setenv("SLUICE_TEST_CHAIN", pki_.path("server.crt").c_str(), 1);
    ::setenv("SLUICE_TEST_KEY", pki_.path("server.key").c_str(), 1);
    ::setenv("SLUICE_TEST_CA", pki_.path("root.crt").c_str(), 1);
    const auto r = config::loadString(kConfig, "t.yaml");
    ASSERT_TRUE(r.config) << r.errorText();
    // A copy the tests may take resources from.
    cfg_ = std::make_shared<config::Config>(*r.config);
  }

  const TestPki& pki_ = TestPki::get();
  std::shared_ptr<config::Config> cfg_;
  stats::StatsStore stats_{1};
  SnapshotBuilder builder_{stats_, 1};
};

TEST_F(SnapshotBuilderTest, TlsProvidersReadTheFilesTheirSecretsName) {
  std::string error;
  auto snap = builder_.build(cfg_, nullptr, &error);
  ASSERT_TRUE(snap) << error;
  ASSERT_EQ(snap->tls_providers.size(), 1u);
  const auto& provider = *snap->tls_providers.begin()->second;
  EXPECT_EQ(provider.name(), "listener/l");
  ASSERT_TRUE(provider.serverContext());
  ASSERT_EQ(provider.serverContext()->certificates().size(), 1u);
  EXPECT_EQ(provider.serverContext()->certificates()[0].cert_chain_path, pki_.path("server.crt"));
  EXPECT_EQ(snap->cluster_stats.at("c").hosts.size(), 2u);
}

// Resources arriving one by one (References::WarnAndServe) may leave a TLS
// block's secret missing: the block cannot be built, so the snapshot is
// refused, naming the block and the first missing secret.
TEST_F(SnapshotBuilderTest, AMissingSecretFailsTheBuild) {
  cfg_->secrets.clear();
  std::string error;
  EXPECT_FALSE(builder_.build(cfg_, nullptr, &error));
  EXPECT_EQ(error, "t.yaml:5:7: listeners[0].tls: unknown secret 'cert:" + pki_.path("server.crt") + "," +
                       pki_.path("server.key") + "'");
}

// ... while a cluster without its load assignment is built without hosts.
TEST_F(SnapshotBuilderTest, AClusterWithoutItsLoadAssignmentHasNoHosts) {
  cfg_->load_assignments.clear();
  std::string error;
  auto snap = builder_.build(cfg_, nullptr, &error);
  ASSERT_TRUE(snap) << error;
  EXPECT_TRUE(snap->cluster_stats.at("c").hosts.empty());
}

}  // namespace
}  // namespace sluice::server
