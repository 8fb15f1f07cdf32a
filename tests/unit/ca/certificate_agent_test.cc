// The certificate agent against a real gRPC server (the test CA fixture,
// in process) on a real loop: the secret it provides holds a chain for the
// key it made, with the CA's SPIFFE ID; a refused call is counted and
// retried with the token read again; an early rotation brings a new key.
#include "proxy/ca/certificate_agent.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>

#include "proxy/ca/key_and_csr.h"
#include "tests/integration/support/test_ca/test_ca.h"

namespace sluice::ca {
namespace {

using namespace std::chrono_literals;
using sluice::testing::TestCa;

class CertificateAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-agent-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    token_file_ = dir_ + "/token";
    port_ = ca_.start();
    ASSERT_GT(port_, 0);
    ca_.addToken("tok-web", "ns/default/sa/web");
  }
  void TearDown() override {
    agent_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  void writeToken(const std::string& token) { std::ofstream(token_file_) << token << "\n"; }

  void makeAgent() {
    config::CaSpec spec;
    spec.address = "127.0.0.1:" + std::to_string(port_);
    spec.token_file = token_file_;
    spec.ttl = 3600s;
    agent_ = std::make_unique<CertificateAgent>(
        loop_, spec, "node-1", makeGrpcCaClient(loop_, spec.address, /*root_pem=*/"", /*root_file=*/""),
        [this] {
          ++changes_;
          loop_.exit();
        },
        util::threadRandomSource());
  }

  // Runs the loop until on_change ran `n` times in all, or `limit` passed.
  bool runUntilChanges(int n, std::chrono::milliseconds limit) {
    bool timed_out = false;
    auto guard = loop_.createTimer([&] {
      timed_out = true;
      loop_.exit();
    });
    guard->enable(limit);
    while (changes_ < n && !timed_out) loop_.run();
    return changes_ >= n;
  }

  double metric(const std::string& result) {
    return static_cast<double>(
        stats::namedCounter("sluice_identity_certificate_requests_total", "", {{"result", result}})->value());
  }

  TestCa ca_;
  int port_ = 0;
  std::string dir_, token_file_;
  event::Loop loop_;
  std::unique_ptr<CertificateAgent> agent_;
  int changes_ = 0;
};

TEST_F(CertificateAgentTest, ProvidesACertificateForItsOwnKey) {
  writeToken("tok-web");
  makeAgent();
  const double ok_before = metric("ok");
  agent_->start();
  ASSERT_TRUE(runUntilChanges(1, 10s)) << "no certificate; CA calls: " << ca_.calls();
  const auto& secret = agent_->secret();
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->name, "default");
  EXPECT_EQ(secret->kind, config::SecretSpec::Kind::TlsCertificate);
  EXPECT_TRUE(secret->inline_pem);
  const LeafInfo leaf = leafInfo(secret->cert_chain);
  EXPECT_EQ(leaf.spiffe_id, "spiffe://sluice.test/ns/default/sa/web");
  EXPECT_EQ(leaf.public_key_der, publicKeyOfPrivateKey(secret->private_key)) << "the key it made, kept in memory";
  EXPECT_GT(leaf.not_after, std::chrono::system_clock::now() + 3500s) << "the ttl asked for";
  EXPECT_EQ(metric("ok"), ok_before + 1);

  // An early rotation: a new key, a new certificate.
  const std::string first_key = secret->private_key;
  agent_->rotateNow();
  ASSERT_TRUE(runUntilChanges(2, 10s));
  EXPECT_NE(agent_->secret()->private_key, first_key);
  EXPECT_EQ(leafInfo(agent_->secret()->cert_chain).public_key_der,
            publicKeyOfPrivateKey(agent_->secret()->private_key));
}

TEST_F(CertificateAgentTest, ARefusedCallIsCountedAndRetriedWithTheTokenReadAgain) {
  writeToken("tok-wrong");
  makeAgent();
  const double errors_before = metric("error");
  agent_->start();
  // The first retry comes 0.5 to 1 s after the refusal.
  auto fix = loop_.createTimer([this] { writeToken("tok-web"); });
  fix->enable(300ms);
  ASSERT_TRUE(runUntilChanges(1, 10s)) << agent_->status().dump();
  EXPECT_GE(metric("error"), errors_before + 1);
  EXPECT_GE(ca_.calls(), 2);
  EXPECT_EQ(leafInfo(agent_->secret()->cert_chain).spiffe_id, "spiffe://sluice.test/ns/default/sa/web");
}

TEST_F(CertificateAgentTest, KeepsTheCurrentCertificateWhileTheCaFails) {
  writeToken("tok-web");
  makeAgent();
  agent_->start();
  ASSERT_TRUE(runUntilChanges(1, 10s));
  const auto before = *agent_->secret();
  ca_.setFailure("CA is down for maintenance");
  agent_->rotateNow();
  auto stop = loop_.createTimer([this] { loop_.exit(); });
  stop->enable(700ms);
  loop_.run();
  EXPECT_EQ(changes_, 1);
  EXPECT_EQ(agent_->secret()->cert_chain, before.cert_chain) << "the current certificate serves on";
  EXPECT_EQ(agent_->status().value("last_error", ""),
            "CreateCertificate failed: UNAVAILABLE: CA is down for maintenance");
}

}  // namespace
}  // namespace sluice::ca
