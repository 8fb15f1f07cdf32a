// The CA's own port: TLS with a serving certificate the CA issued for the
// configured names, verified by a real gRPC client against the mesh root
// (another root fails the handshake), renewed at half its life and served
// without a restart; plaintext only when configured.
#include "control/ca/ca_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "control/ca/certificate_service.h"
#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control::ca {
namespace {

using namespace std::chrono_literals;
namespace pb = ::sluice::ca::v1;

class CaServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = test::specIn(dir_);
    spec_.serving.address = "127.0.0.1:0";
    spec_.serving.certificate_ttl = 10min;
    config::ParseContext ctx("control.yaml");
    ca_ = CaRuntime::build(spec_, std::chrono::system_clock::now(), ctx);
    ASSERT_TRUE(ca_) << ctx.str();
    service_ = std::make_unique<CertificateService>(ca_, metrics_);
  }

  // One call without a token over a new channel: UNAUTHENTICATED means the
  // handshake and the call went through; `peer` gets the server's leaf.
  grpc::Status call(const CaServer& server, std::shared_ptr<grpc::ChannelCredentials> creds,
                    std::string* peer = nullptr) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a new connection each time
    auto stub = pb::CertificateService::NewStub(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server.port()), creds, args));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    pb::CreateCertificateRequest req;
    pb::CreateCertificateResponse resp;
    const grpc::Status s = stub->CreateCertificate(&context, req, &resp);
    if (peer != nullptr && context.auth_context()) {
      const auto pem = context.auth_context()->FindPropertyValues("x509_pem_cert");
      if (!pem.empty()) *peer = std::string(pem[0].data(), pem[0].size());
    }
    return s;
  }

  static std::shared_ptr<grpc::ChannelCredentials> trusting(const std::string& root) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = root;
    return grpc::SslCredentials(o);
  }

  test::TempDir dir_;
  CaSpec spec_;
  std::shared_ptr<const CaRuntime> ca_;
  prometheus::Registry registry_;
  CaMetrics metrics_{registry_};
  std::unique_ptr<CertificateService> service_;
};

TEST_F(CaServerTest, ServesTlsChainingToTheRootAndRenewsAtHalfLife) {
  CaServer server(spec_.serving, spec_.dir.path, service_.get());
  const SysTime now = std::chrono::system_clock::now();
  std::string error;
  ASSERT_TRUE(server.start(*ca_->authority, now, error)) << error;
  // Half of [now - 1 min, now + 10 min].
  EXPECT_NEAR(std::chrono::duration<double>(server.renewAt() - now).count(), 270, 2);

  const std::string root = ca_->authority->trustBundle().front();
  std::string first;
  EXPECT_EQ(call(server, trusting(root), &first).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_FALSE(first.empty());
  X509Ptr leaf = test::certOf(first);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);

  // Another root, or no TLS at all: nothing reaches the service.
  test::TempDir other_dir;
  config::ParseContext ctx("other.yaml");
  auto other = Authority::build(test::specIn(other_dir), now, ctx);
  ASSERT_TRUE(other) << ctx.str();
  EXPECT_EQ(call(server, trusting(other->trustBundle().front())).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(call(server, grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAVAILABLE);

  // Renewed (here early): the next connections get the new certificate,
  // due for renewal at half of its own life.
  const SysTime later = std::chrono::system_clock::now();
  ASSERT_TRUE(server.renew(*ca_->authority, later, error)) << error;
  EXPECT_NEAR(std::chrono::duration<double>(server.renewAt() - later).count(), 270, 2);
  std::string served = first;
  for (int i = 0; i < 100 && served == first; ++i) {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(call(server, trusting(root), &served).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_NE(served, first) << "the renewed certificate was never served";
  server.shutdown();
}

TEST_F(CaServerTest, PlaintextWhenConfigured) {
  spec_.serving.plaintext = true;
  CaServer server(spec_.serving, spec_.dir.path, service_.get());
  std::string error;
  ASSERT_TRUE(server.start(*ca_->authority, std::chrono::system_clock::now(), error)) << error;
  EXPECT_EQ(call(server, grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(server.renewAt(), SysTime::max());
}

TEST_F(CaServerTest, ASecondServerOnTheSameAddressFailsToStart) {
  spec_.serving.plaintext = true;
  CaServer server(spec_.serving, spec_.dir.path, service_.get());
  std::string error;
  ASSERT_TRUE(server.start(*ca_->authority, std::chrono::system_clock::now(), error)) << error;
  auto taken = spec_.serving;
  taken.address = "127.0.0.1:" + std::to_string(server.port());
  CaServer second(taken, spec_.dir.path, service_.get());
  EXPECT_FALSE(second.start(*ca_->authority, std::chrono::system_clock::now(), error));
  EXPECT_EQ(error, "cannot listen on " + taken.address);
}

}  // namespace
}  // namespace sluice::control::ca
