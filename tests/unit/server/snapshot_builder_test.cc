// SnapshotBuilder with the resources a config names: certificate providers
// built from the TLS blocks' secrets, and what it does when a resource that
// arrives on its own (a secret, a load assignment) is missing.
#include "proxy/server/snapshot_builder.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
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

namespace sluice::server {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The listener's certificate as an inline secret named `default`, as xDS
// or the certificate agent gives it.
class InlineSecretTest : public SnapshotBuilderTest {
 protected:
  void SetUp() override {
    SnapshotBuilderTest::SetUp();
    cfg_->listeners[0].tls->certificates = {"default"};
    cfg_->secrets.push_back(inlineCert("server"));
  }
  config::SecretSpec inlineCert(const std::string& stem) const {
    config::SecretSpec s;
    s.name = "default";
    s.inline_pem = true;
    s.cert_chain = readAll(pki_.path(stem + ".crt"));
    s.private_key = readAll(pki_.path(stem + ".key"));
    return s;
  }
  std::shared_ptr<config::Config> withDefault(const config::SecretSpec& s) const {
    auto next = std::make_shared<config::Config>(*cfg_);
    for (auto& sec : next->secrets)
      if (sec.name == "default") sec = s;
    return next;
  }
  static std::string subjectOf(const tls::CertificateProvider& p) {
    return p.serverContext()->certificates().at(0).subject;
  }
};

TEST_F(InlineSecretTest, AnInlineSecretIsBuiltFromMemory) {
  std::string error;
  auto snap = builder_.build(cfg_, nullptr, &error);
  ASSERT_TRUE(snap) << error;
  const auto& provider = *snap->tls_providers.begin()->second;
  EXPECT_EQ(subjectOf(provider), "/CN=localhost");
  EXPECT_EQ(provider.serverContext()->certificates()[0].cert_chain_path, "inline secret 'default'");
}

// New content under the same name: the same listener sockets and the same
// provider, whose context is swapped when the snapshot is published, not
// when it is built; a rejected build swaps nothing.
TEST_F(InlineSecretTest, NewContentUnderTheSameNameSwapsTheRunningProvider) {
  std::string error;
  auto first = builder_.build(cfg_, nullptr, &error);
  ASSERT_TRUE(first) << error;
  auto provider = first->tls_providers.begin()->second;
  const uint64_t version = provider->version();

  auto rotated = builder_.build(withDefault(inlineCert("server-new")), first.get(), &error);
  ASSERT_TRUE(rotated) << error;
  EXPECT_EQ(rotated->sockets[0], first->sockets[0]) << "the listener is kept: no rebind, no drain";
  EXPECT_EQ(rotated->tls_providers.begin()->second, provider) << "the provider is kept";
  ASSERT_EQ(rotated->tls_swaps.size(), 1u);
  EXPECT_EQ(subjectOf(*provider), "/CN=localhost") << "nothing changes before publication";
  rotated->tls_swaps[0].provider->install(*rotated->tls_swaps[0].swap);
  EXPECT_EQ(subjectOf(*provider), "/CN=localhost-rotated");
  EXPECT_GT(provider->version(), version);

  // The same content again: nothing to swap.
  auto same = builder_.build(withDefault(inlineCert("server-new")), rotated.get(), &error);
  ASSERT_TRUE(same) << error;
  EXPECT_TRUE(same->tls_swaps.empty());

  // Bad material under the name: the build fails, the provider serves on.
  config::SecretSpec bad = inlineCert("server");
  bad.private_key = readAll(pki_.path("client.key"));
  EXPECT_FALSE(builder_.build(withDefault(bad), same.get(), &error));
  EXPECT_NE(error.find("listeners[0].tls"), std::string::npos) << error;
  EXPECT_EQ(subjectOf(*provider), "/CN=localhost-rotated");
}

// A changed listener on the address a running one holds gets that
// listener's sockets (the same kernel sockets, duplicated), so the old one's
// drain closes nothing the kernel queues connections on; a new address
// gets new sockets.
TEST(SnapshotBuilderSockets, AChangedListenerOnTheSameAddressTakesTheRunningSockets) {
  stats::StatsStore stats{2};
  SnapshotBuilder builder{stats, 2};
  auto config = [](const std::string& address, int buffer) {
    const auto r = config::loadString("listeners:\n  - name: l\n    address: " + address +
                                          "\n    per_connection_buffer_limit_bytes: " + std::to_string(buffer) +
                                          "\n    tcp_proxy: {cluster: c}\nclusters:\n  - name: c\n"
                                          "    endpoints: [{address: 127.0.0.1:1}]\n",
                                      "t.yaml");
    EXPECT_TRUE(r.config) << r.errorText();
    return r.config;
  };
  auto inode = [](int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return st.st_ino;
  };
  std::string error;
  auto first = builder.build(config("127.0.0.1:0", 32768), nullptr, &error);
  ASSERT_TRUE(first) << error;
  const std::string address = first->sockets[0]->bound.str();
  auto pinned = builder.build(config(address, 32768), first.get(), &error);
  ASSERT_TRUE(pinned) << error;
  // The workers adopt their sockets and close them when the listener is
  // replaced: the builder must not need theirs (nor read them: they are the
  // workers' to write).
  std::vector<ino_t> running;
  for (int& fd : pinned->sockets[0]->fds) {
    running.push_back(inode(fd));
    ::close(fd);
    fd = -1;
  }
  auto changed = builder.build(config(address, 65536), pinned.get(), &error);
  ASSERT_TRUE(changed) << error;
  ASSERT_EQ(changed->sockets[0]->fds.size(), 2u);
  for (size_t w = 0; w < 2; ++w) EXPECT_EQ(inode(changed->sockets[0]->fds[w]), running[w]) << "worker " << w;
  // Once the old snapshot is gone the new one's sockets keep listening.
  pinned->sockets[0]->releaseHeld();
  int so_accept = 0;
  socklen_t len = sizeof(so_accept);
  ASSERT_EQ(::getsockopt(changed->sockets[0]->fds[0], SOL_SOCKET, SO_ACCEPTCONN, &so_accept, &len), 0);
  EXPECT_EQ(so_accept, 1);

  auto moved = builder.build(config("127.0.0.1:0", 65536), changed.get(), &error);
  ASSERT_TRUE(moved) << error;
  EXPECT_NE(inode(moved->sockets[0]->fds[0]), inode(changed->sockets[0]->fds[0]));
}

TEST(SnapshotBuilderSockets, AReleasedListenerFreesItsPortOnceItsWorkersCloseTheirs) {
  stats::StatsStore stats{1};
  SnapshotBuilder builder{stats, 1};
  const auto r = config::loadString(
      "listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tcp_proxy: {cluster: c}\nclusters:\n  - name: c\n"
      "    endpoints: [{address: 127.0.0.1:1}]\n",
      "t.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  std::string error;
  auto snap = builder.build(r.config, nullptr, &error);
  ASSERT_TRUE(snap) << error;
  auto& sockets = *snap->sockets[0];
  const ip::Address bound = sockets.bound;
  ::close(sockets.fds[0]);  // what the worker does when it stops accepting
  sockets.fds[0] = -1;
  auto connectRefused = [&] {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool refused = ::connect(c, bound.sockAddr(), bound.sockLen()) != 0 && errno == ECONNREFUSED;
    ::close(c);
    return refused;
  };
  EXPECT_FALSE(connectRefused()) << "the main thread's copy still listens";
  sockets.releaseHeld();
  EXPECT_TRUE(connectRefused());
}

}  // namespace
}  // namespace sluice::server
