// Building contexts: every failure names the field and file; SNI name
// tables; ticket key rotation.
#include "proxy/tls/tls_context.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "tests/unit/tls/tls_test_support.h"

namespace sluice::tls {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()); }
  std::string buildError(const ServerTlsConfig& cfg) {
    auto r = ServerTlsContext::build(cfg);
    EXPECT_FALSE(r.ok());
    return r.error;
  }
  const testing::TestPki& pki_ = testing::TestPki::get();
};

TEST_F(TlsContextTest, ServerErrorsNameTheFieldAndFile) {
  ServerTlsConfig cfg;
  EXPECT_TRUE(contains(buildError(cfg), "at least one certificate"));

  cfg.certificates = {{pki_.path("server.crt"), pki_.path("server.key")}, {pki_.path("missing.crt"), "k"}};
  std::string e = buildError(cfg);
  EXPECT_TRUE(contains(e, "certificates[1].cert_chain_path '" + pki_.path("missing.crt") + "': cannot read")) << e;

  cfg.certificates = {{pki_.path("server.crt"), pki_.path("client.key")}};
  e = buildError(cfg);
  EXPECT_TRUE(contains(e, "certificates[0].private_key_path '" + pki_.path("client.key") + "': does not match")) << e;

  const std::string junk = pki_.path("junk.pem");
  std::ofstream(junk) << "not a certificate\n";
  cfg.certificates = {{junk, pki_.path("server.key")}};
  e = buildError(cfg);
  EXPECT_TRUE(contains(e, "certificates[0].cert_chain_path '" + junk + "': not a PEM certificate chain")) << e;

  cfg = testing::serverConfig(pki_);
  cfg.require_client_cert = true;
  EXPECT_TRUE(contains(buildError(cfg), "require_client_cert: needs ca_bundle_path"));
  cfg.ca_bundle_path = junk;
  e = buildError(cfg);
  EXPECT_TRUE(contains(e, "ca_bundle_path '" + junk + "'")) << e;

  cfg.ca_bundle_path = pki_.path("root.crt");
  cfg.verify_spiffe_ids = {"spiffe://Bad/x"};
  e = buildError(cfg);
  EXPECT_TRUE(contains(e, "verify_spiffe_ids[0] 'spiffe://Bad/x'")) << e;

  cfg.verify_spiffe_ids = {};
  cfg.alpn = {""};
  EXPECT_TRUE(contains(buildError(cfg), "alpn"));

  cfg.alpn = {};
  cfg.min_version = TlsVersion::Tls13;
  cfg.max_version = TlsVersion::Tls12;
  EXPECT_TRUE(contains(buildError(cfg), "min_version"));
}

TEST_F(TlsContextTest, ClientErrors) {
  ClientTlsConfig cfg;
  cfg.cert_chain_path = pki_.path("client.crt");
  auto r = ClientTlsContext::build(cfg);
  EXPECT_TRUE(contains(r.error, "go together")) << r.error;
  cfg.private_key_path = pki_.path("server.key");
  r = ClientTlsContext::build(cfg);
  EXPECT_TRUE(contains(r.error, "does not match")) << r.error;
  cfg = {};
  cfg.ca_bundle_path = pki_.path("nope.crt");
  r = ClientTlsContext::build(cfg);
  EXPECT_TRUE(contains(r.error, "ca_bundle_path '" + pki_.path("nope.crt") + "': cannot read")) << r.error;
  cfg.ca_bundle_path = pki_.path("root.crt");
  cfg.cert_chain_path = pki_.path("client.crt");
  cfg.private_key_path = pki_.path("client.key");
  r = ClientTlsContext::build(cfg);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.context->certificates().size(), 1u);
  EXPECT_EQ(r.context->certificates()[0].spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
}

TEST_F(TlsContextTest, SniNameTable) {
  auto ctx = testing::buildServer(testing::serverConfig(pki_));
  ASSERT_TRUE(ctx);
  ASSERT_EQ(ctx->certificates().size(), 2u);
  EXPECT_EQ(ctx->certificates()[0].dns_names, (std::vector<std::string>{"localhost", "*.sluice.test"}));
  EXPECT_EQ(ctx->certificateFor("localhost"), 0u);
  EXPECT_EQ(ctx->certificateFor("api.other.test"), 1u);
  EXPECT_EQ(ctx->certificateFor("API.Other.Test"), 1u);
  EXPECT_EQ(ctx->certificateFor("x.sluice.test"), 0u);
  EXPECT_EQ(ctx->certificateFor("a.b.sluice.test"), 0u);  // default, not a wildcard match
  EXPECT_EQ(ctx->certificateFor("unknown"), 0u);
  const auto now = std::chrono::system_clock::now();
  EXPECT_GT(ctx->certificates()[1].not_after, now + std::chrono::hours(24 * 300));
  EXPECT_LT(ctx->certificates()[1].not_before, now + std::chrono::minutes(1));
}

TEST_F(TlsContextTest, TicketKeysRotateKeepingThePrevious) {
  SessionTicketKeys keys;
  const auto first = keys.load();
  EXPECT_FALSE(first.has_previous);
  keys.rotate();
  const auto second = keys.load();
  EXPECT_TRUE(second.has_previous);
  EXPECT_EQ(std::memcmp(second.previous.name, first.current.name, 16), 0);
  EXPECT_NE(std::memcmp(second.current.name, first.current.name, 16), 0);
  EXPECT_EQ(keys.rotations(), 1u);
}

}  // namespace
}  // namespace sluice::tls
