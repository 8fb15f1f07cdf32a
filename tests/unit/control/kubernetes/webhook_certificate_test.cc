// The webhook's serving certificate: issued by the mesh CA for the
// configured DNS names (verified by the real openssl against the root),
// renewed at half life; or the operator's files, checked to match.

#include "control/kubernetes/webhook_certificate.h"

#include <gtest/gtest.h>

#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control::kubernetes {
namespace {

using ca::test::sh;
using ca::test::TempDir;
using ca::test::writeText;

TEST(WebhookCertificate, TheCaIssuesItForTheServiceNamesAndItIsRenewedAtHalfLife) {
  TempDir dir;
  config::ParseContext errors("control.yaml");
  const auto now = std::chrono::system_clock::now();
  const auto authority = ca::Authority::build(ca::test::specIn(dir), now, errors);
  ASSERT_TRUE(authority) << errors.str();
  WebhookServing w;
  w.dns_names = {"sluice-control.sluice-system.svc", "sluice-control.sluice-system.svc.cluster.local"};
  w.certificate_ttl = std::chrono::hours(2);
  ServingCertificate cert;
  std::string error;
  ASSERT_TRUE(issueServingCertificate(*authority, w, now, cert, error)) << error;
  EXPECT_GT(cert.refresh_at, now + std::chrono::minutes(59));
  EXPECT_LT(cert.refresh_at, now + std::chrono::minutes(61));
  EXPECT_LE(cert.not_after, now + std::chrono::hours(2));

  writeText(dir / "leaf.pem", cert.chain_pem);
  writeText(dir / "key.pem", cert.key_pem);
  const auto verify = sh("openssl verify -CAfile " + (dir / "state/root.pem") +
                         " -purpose sslserver -verify_hostname "
                         "sluice-control.sluice-system.svc " +
                         (dir / "leaf.pem"));
  EXPECT_EQ(verify.status, 0) << verify.out;
  const auto other =
      sh("openssl verify -CAfile " + (dir / "state/root.pem") + " -verify_hostname other.svc " + (dir / "leaf.pem"));
  EXPECT_NE(other.status, 0) << other.out;

  // The same pair read back as the operator's files.
  w.cert_file = ca::FileRef{dir / "leaf.pem", {}};
  w.key_file = ca::FileRef{dir / "key.pem", {}};
  ServingCertificate from_files;
  ASSERT_TRUE(loadServingCertificate(w, now, from_files, error)) << error;
  EXPECT_EQ(from_files.chain_pem, cert.chain_pem);
  EXPECT_EQ(from_files.refresh_at, now + std::chrono::seconds(30));

  // The shortest TTL control.yaml takes is renewed at half the life it has
  // from now, not half its span from a not_before set back for clock skew
  // (which would be due at once, and again at every turn of the timer).
  w.cert_file.reset();
  w.key_file.reset();
  w.certificate_ttl = ca::kMinTtl;
  ASSERT_TRUE(issueServingCertificate(*authority, w, now, cert, error)) << error;
  EXPECT_GT(cert.refresh_at, now + std::chrono::seconds(29));
  EXPECT_LT(cert.refresh_at, cert.not_after);
}

TEST(WebhookCertificate, FilesThatDoNotMatchAreRefusedByName) {
  TempDir dir;
  writeText(dir / "a.pem", "not a certificate\n");
  writeText(dir / "a.key", "");
  WebhookServing w;
  w.cert_file = ca::FileRef{dir / "a.pem", {}};
  w.key_file = ca::FileRef{dir / "missing.key", {}};
  ServingCertificate out;
  std::string error;
  EXPECT_FALSE(loadServingCertificate(w, std::chrono::system_clock::now(), out, error));
  EXPECT_EQ(error, dir / "missing.key" + ": cannot read: No such file or directory");
  w.key_file = ca::FileRef{dir / "a.key", {}};
  EXPECT_FALSE(loadServingCertificate(w, std::chrono::system_clock::now(), out, error));
  EXPECT_EQ(error, dir / "a.pem" + ": no PEM certificate in it");
}

}  // namespace
}  // namespace sluice::control::kubernetes
