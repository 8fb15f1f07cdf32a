// CreateCertificate: each way a call is refused (its status, message and
// counter) and an issuance, first without transport, then through a real
// gRPC channel to the ADS server's port (the service registered beside ADS).

#include "control/ca/certificate_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "control/ca/ca_server.h"
#include "control/metrics.h"
#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control::ca {
namespace {

using namespace std::chrono_literals;
namespace pb = ::sluice::ca::v1;

class CertificateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = test::specIn(dir_);
    config::ParseContext ctx("control.yaml");
    ca_ = CaRuntime::build(spec_, std::chrono::system_clock::now(), ctx);
    ASSERT_TRUE(ca_) << ctx.str();
    std::string key, error;
    ASSERT_TRUE(readTokenKey(spec_.token_keys[0].path, key, error)) << error;
    token_ = mintToken(key, {"default", "web"});
    csr_ = test::makeCsr(dir_, "w");
  }
  double failures(const std::string& reason) const {
    return reason == "unauthenticated" ? metrics_.unauthenticated.Value()
           : reason == "bad_csr"       ? metrics_.bad_csr.Value()
                                       : metrics_.internal.Value();
  }

  test::TempDir dir_;
  CaSpec spec_;
  std::shared_ptr<const CaRuntime> ca_;
  prometheus::Registry registry_;
  CaMetrics metrics_{registry_};
  std::string token_, csr_;
};

TEST_F(CertificateServiceTest, RefusesWithTheRightStatusAndCountsIt) {
  CertificateService service(ca_, metrics_);
  pb::CreateCertificateRequest req;
  req.set_csr(csr_);
  pb::CreateCertificateResponse resp;
  grpc::Status s = service.create("", req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "no authorization metadata: send 'authorization: Bearer <token>'");
  s = service.create("Basic " + token_, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "authorization is not a Bearer token");
  s = service.create("Bearer v1/default/web/00", req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "bad bootstrap token: malformed token signature: expected 64 hex digits");
  EXPECT_EQ(failures("unauthenticated"), 3);

  req.set_csr("not a csr");
  s = service.create("Bearer " + token_, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "not a PEM certificate request");
  EXPECT_EQ(failures("bad_csr"), 1);
  EXPECT_EQ(resp.cert_chain_size(), 0);
  EXPECT_EQ(metrics_.issued.Value(), 0);
}

TEST_F(CertificateServiceTest, IssuesUnderTheClockItIsGivenAndFollowsUpdates) {
  SysTime now = std::chrono::system_clock::now();
  CertificateService service(ca_, metrics_, [&] { return now; });
  const double expiry = metrics_.root_expiry.Value();
  EXPECT_NEAR(expiry, std::chrono::duration<double>(ca_->authority->rootNotAfter() - now).count(), 1);
  pb::CreateCertificateRequest req;
  req.set_csr(csr_);
  req.set_validity_seconds(600);
  pb::CreateCertificateResponse resp;
  ASSERT_TRUE(service.create("bearer " + token_, req, &resp).ok());
  ASSERT_EQ(resp.cert_chain_size(), 1);
  ASSERT_EQ(resp.trust_bundle_size(), 1);
  EXPECT_EQ(resp.trust_bundle(0), ca_->authority->trustBundle()[0]);
  X509Ptr leaf = test::certOf(resp.cert_chain(0));
  ASSERT_TRUE(leaf);
  EXPECT_EQ(notAfter(leaf.get()), std::chrono::floor<std::chrono::seconds>(now + 600s));
  EXPECT_EQ(metrics_.issued.Value(), 1);

  // An hour on: the gauge follows the clock once refreshed.
  now += 1h;
  service.refreshRootExpiry();
  EXPECT_NEAR(metrics_.root_expiry.Value(), expiry - 3600, 1);

  // A new key replaces the old one: the old token is refused from then on.
  test::writeText(dir_ / "token2.key", "another-key-of-enough-length\n");
  CaSpec next = spec_;
  next.token_keys = {FileRef{dir_ / "token2.key", {}}};
  config::ParseContext ctx("control.yaml");
  auto reloaded = ca_->reconfigured(next, ctx);
  ASSERT_TRUE(reloaded) << ctx.str();
  service.update(reloaded);
  const grpc::Status s = service.create("Bearer " + token_, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "bad bootstrap token: token signature matches no configured key");
}

// Over a real channel (the CA's own server, plaintext here: its TLS is
// ca_server_test's), a token's call is issued and counted.
TEST_F(CertificateServiceTest, ServedOnTheCasPortOverARealChannel) {
  CertificateService service(ca_, metrics_);
  CaServing serving = spec_.serving;
  serving.address = "127.0.0.1:0";
  serving.plaintext = true;
  CaServer server(serving, spec_.dir.path, &service);
  std::string error;
  ASSERT_TRUE(server.start(*ca_->authority, std::chrono::system_clock::now(), error)) << error;
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials());
  auto stub = pb::CertificateService::NewStub(channel);
  pb::CreateCertificateRequest req;
  req.set_csr(csr_);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    ctx.AddMetadata("authorization", "Bearer " + token_);
    pb::CreateCertificateResponse resp;
    const grpc::Status s = stub->CreateCertificate(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.cert_chain_size(), 1);
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    pb::CreateCertificateResponse resp;
    const grpc::Status s = stub->CreateCertificate(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  server.shutdown();
  EXPECT_EQ(metrics_.issued.Value(), 1);
  EXPECT_EQ(failures("unauthenticated"), 1);
}

}  // namespace
}  // namespace sluice::control::ca
