// The SPIFFE ID a certificate carries (identity extraction from X.509).
#include "proxy/tls/peer_identity.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstdio>

#include "tests/unit/tls/tls_test_support.h"

namespace sluice::tls {
namespace {

X509* readCert(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return c;
}

TEST(SpiffeIdTest, ExtractsFromCertificates) {
  const auto& pki = testing::TestPki::get();
  ASSERT_TRUE(pki.ok());
  X509* client = readCert(pki.path("client.crt"));
  X509* server = readCert(pki.path("server.crt"));
  ASSERT_TRUE(client && server);
  EXPECT_EQ(spiffeIdOf(client).value_or(""), "spiffe://sluice.test/ns/default/sa/client");
  EXPECT_EQ(uriSans(client), std::vector<std::string>{"spiffe://sluice.test/ns/default/sa/client"});
  EXPECT_FALSE(spiffeIdOf(server));  // DNS SANs only
  EXPECT_TRUE(uriSans(server).empty());
  EXPECT_FALSE(spiffeIdOf(nullptr));
  X509_free(client);
  X509_free(server);
}

}  // namespace
}  // namespace sluice::tls
