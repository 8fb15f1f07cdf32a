// The agent's key and CSR: a fresh P-256 key per request, a CSR that
// verifies under its own public key, which is the agent's.
#include "proxy/ca/key_and_csr.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace sluice::ca {
namespace {

TEST(KeyAndCsr, TheCsrVerifiesAndHoldsTheAgentsPublicKey) {
  const KeyAndCsr made = makeKeyAndCsr("node-1");
  ASSERT_TRUE(made.ok()) << made.error;
  ASSERT_NE(made.private_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  ASSERT_NE(made.csr_pem.find("BEGIN CERTIFICATE REQUEST"), std::string::npos);

  BIO* bio = BIO_new_mem_buf(made.csr_pem.data(), static_cast<int>(made.csr_pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(req, nullptr);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req);
  EXPECT_EQ(X509_REQ_verify(req, pub), 1) << "signed by the key it carries";
  char group[64] = {};
  size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_group_name(pub, group, sizeof(group), &len), 1);
  EXPECT_STREQ(group, "prime256v1");
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "node-1");
  X509_REQ_free(req);

  EXPECT_FALSE(publicKeyOfCsr(made.csr_pem).empty());
  EXPECT_EQ(publicKeyOfCsr(made.csr_pem), publicKeyOfPrivateKey(made.private_key_pem));
}

TEST(KeyAndCsr, EachRequestHasItsOwnKey) {
  const KeyAndCsr a = makeKeyAndCsr("");
  const KeyAndCsr b = makeKeyAndCsr("");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(publicKeyOfPrivateKey(a.private_key_pem), publicKeyOfPrivateKey(b.private_key_pem));
  EXPECT_NE(publicKeyOfCsr(a.csr_pem), publicKeyOfCsr(b.csr_pem));
}

TEST(KeyAndCsr, GarbageHasNoPublicKey) {
  EXPECT_TRUE(publicKeyOfCsr("not a csr").empty());
  EXPECT_TRUE(publicKeyOfPrivateKey("not a key").empty());
  EXPECT_TRUE(leafInfo("not a certificate").public_key_der.empty());
}

}  // namespace
}  // namespace sluice::ca
