// The CA's signing half against the real `openssl` binary: what a workload
// certificate holds (the CA's own SAN whatever the CSR asks), lifetimes
// (clamped, capped by the issuer), refused CSRs, the generated root kept
// across restarts, and an operator's root and intermediate.

#include "control/ca/authority.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "control/ca/trust_bundle_secret.h"
#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control::ca {
namespace {

using namespace std::chrono_literals;
using test::readText;
using test::sh;
using test::TempDir;
using test::writeText;

const WorkloadIdentity kWeb{"default", "web"};

SysTime wholeSecond(SysTime t) { return std::chrono::floor<std::chrono::seconds>(t); }

std::shared_ptr<const Authority> build(const CaSpec& spec, SysTime now = std::chrono::system_clock::now()) {
  config::ParseContext ctx("control.yaml");
  auto a = Authority::build(spec, now, ctx);
  EXPECT_TRUE(a) << ctx.str();
  return a;
}

std::string buildError(const CaSpec& spec) {
  config::ParseContext ctx("control.yaml");
  EXPECT_FALSE(Authority::build(spec, std::chrono::system_clock::now(), ctx));
  return ctx.str();
}

IssuedCertificate issueOk(const Authority& a, const std::string& csr, std::chrono::seconds ttl = 0s,
                          SysTime now = std::chrono::system_clock::now()) {
  IssueResult r = a.issue(csr, kWeb, ttl, now);
  EXPECT_TRUE(r.cert) << r.reason;
  return r.cert ? *r.cert : IssuedCertificate{};
}

std::vector<std::string> sans(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(n, &type));
    const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                           static_cast<size_t>(ASN1_STRING_length(value)));
    out.push_back((type == GEN_URI ? "URI:" : type == GEN_DNS ? "DNS:" : "other:") + text);
  }
  GENERAL_NAMES_free(names);
  return out;
}

bool critical(X509* cert, int nid) {
  const int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

TEST(AuthorityTest, WritesItsOwnIdentityWhateverTheCsrAsksFor) {
  TempDir dir;
  auto a = build(test::specIn(dir));
  ASSERT_TRUE(a);
  const std::string csr = test::makeCsr(dir, "w");
  const IssuedCertificate c = issueOk(*a, csr);
  ASSERT_EQ(c.chain.size(), 1u);
  EXPECT_EQ(c.spiffe_id, "spiffe://cluster.local/ns/default/sa/web");
  X509Ptr leaf = test::certOf(c.chain[0]);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(sans(leaf.get()), std::vector<std::string>{"URI:spiffe://cluster.local/ns/default/sa/web"});
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf.get())), 0) << "the CSR's subject must not be copied";
  EXPECT_TRUE(critical(leaf.get(), NID_subject_alt_name));
  EXPECT_TRUE(critical(leaf.get(), NID_key_usage));
  EXPECT_TRUE(critical(leaf.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_NE(X509_get0_subject_key_id(leaf.get()), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  // The key is the CSR's.
  PkeyPtr key = keyFromPem(readText(dir / "w.key"));
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);
  // 128 random bits: two certificates never share a serial.
  EXPECT_GE(c.serial.size(), 31u);
  EXPECT_NE(issueOk(*a, csr).serial, c.serial);

  // openssl itself agrees: the chain verifies and the only name is ours.
  writeText(dir / "leaf.pem", c.chain[0]);
  ASSERT_EQ(c.trust_bundle.size(), 1u);
  EXPECT_EQ(c.trust_bundle[0], readText(dir / "state/root.pem"));
  const auto verify = sh("openssl verify -CAfile " + (dir / "state/root.pem") + " " + (dir / "leaf.pem"));
  EXPECT_EQ(verify.status, 0) << verify.out;
  const auto ext = sh("openssl x509 -noout -ext subjectAltName -in " + (dir / "leaf.pem"));
  EXPECT_EQ(ext.out, "X509v3 Subject Alternative Name: critical\n    URI:spiffe://cluster.local/ns/default/sa/web\n");
}

TEST(AuthorityTest, LifetimeIsTheDefaultClampedAndStartsAMinuteEarly) {
  TempDir dir;
  auto a = build(test::specIn(dir));  // default 1h, max 2h
  ASSERT_TRUE(a);
  const std::string csr = test::makeCsr(dir, "w");
  const SysTime now = std::chrono::system_clock::now() + 10min;
  const auto notAfterFor = [&](std::chrono::seconds ttl) { return issueOk(*a, csr, ttl, now).not_after; };
  EXPECT_EQ(notAfterFor(0s), wholeSecond(now + 1h));
  EXPECT_EQ(notAfterFor(90min), wholeSecond(now + 90min));
  EXPECT_EQ(notAfterFor(5s), wholeSecond(now + 1min)) << "below the 1m floor";
  EXPECT_EQ(notAfterFor(100h), wholeSecond(now + 2h)) << "above max_ttl";
  EXPECT_EQ(issueOk(*a, csr, 0s, now).not_before, wholeSecond(now - 1min));
  const IssueResult negative = a->issue(csr, kWeb, -1s, now);
  EXPECT_EQ(negative.failure, IssueResult::Failure::BadRequest);
}

TEST(AuthorityTest, NeverIssuesPastTheRootsEnd) {
  TempDir dir;
  auto a = build(test::specIn(dir));
  ASSERT_TRUE(a);
  const std::string csr = test::makeCsr(dir, "w");
  const SysTime root_end = a->rootNotAfter();
  EXPECT_EQ(issueOk(*a, csr, 2h, root_end - 30min).not_after, root_end);
  const IssueResult late = a->issue(csr, kWeb, 0s, root_end + 1s);
  EXPECT_FALSE(late.cert);
  EXPECT_EQ(late.failure, IssueResult::Failure::Internal);
}

TEST(AuthorityTest, RefusesACsrWhoseSignatureDoesNotVerify) {
  TempDir dir;
  auto a = build(test::specIn(dir));
  ASSERT_TRUE(a);
  const std::string good = test::makeCsr(dir, "w");
  // The CSR re-encoded with one bit of its signature flipped: it parses, but
  // no longer proves the caller holds the key.
  ReqPtr req = requestFromPem(good);
  ASSERT_TRUE(req);
  const ASN1_BIT_STRING* sig = nullptr;
  X509_REQ_get0_signature(req.get(), &sig, nullptr);
  ASSERT_NE(sig, nullptr);
  const_cast<unsigned char*>(ASN1_STRING_get0_data(sig))[ASN1_STRING_length(sig) - 1] ^= 0x01;
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_X509_REQ(bio, req.get()), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string tampered(data, static_cast<size_t>(n));
  BIO_free(bio);
  ASSERT_NE(tampered, good);
  const IssueResult r = a->issue(tampered, kWeb, 0s, std::chrono::system_clock::now());
  EXPECT_FALSE(r.cert);
  EXPECT_EQ(r.failure, IssueResult::Failure::BadRequest);
  EXPECT_EQ(r.reason, "CSR signature does not verify (it must be signed by the key it names)");
  EXPECT_TRUE(a->issue(good, kWeb, 0s, std::chrono::system_clock::now()).cert);
}

TEST(AuthorityTest, RefusesGarbageAndUnacceptedKeys) {
  TempDir dir;
  auto a = build(test::specIn(dir));
  ASSERT_TRUE(a);
  const SysTime now = std::chrono::system_clock::now();
  const IssueResult garbage = a->issue("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                                       kWeb, 0s, now);
  EXPECT_EQ(garbage.failure, IssueResult::Failure::BadRequest);
  EXPECT_EQ(garbage.reason, "not a PEM certificate request");
  const IssueResult ed = a->issue(test::makeCsr(dir, "ed", "ed25519"), kWeb, 0s, now);
  EXPECT_EQ(ed.failure, IssueResult::Failure::BadRequest);
  EXPECT_EQ(ed.reason, "key type is not accepted (EC P-256, P-384 or RSA)");
  EXPECT_TRUE(issueOk(*a, test::makeCsr(dir, "rsa", "rsa:2048")).chain.size() == 1) << "RSA 2048 is accepted";
  const IssueResult huge = a->issue(std::string(kMaxCsrBytes + 1, 'A'), kWeb, 0s, now);
  EXPECT_EQ(huge.failure, IssueResult::Failure::BadRequest);
  const IssueResult bad_id = a->issue(test::makeCsr(dir, "w"), WorkloadIdentity{"Default", "web"}, 0s, now);
  EXPECT_EQ(bad_id.failure, IssueResult::Failure::BadRequest);
}

TEST(AuthorityTest, AGeneratedRootIsKeptAndLoadedAgain) {
  TempDir dir;
  const CaSpec spec = test::specIn(dir);
  auto first = build(spec);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->generatedRoot());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir / "state/root.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "state/root.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  const std::string root_key = readText(dir / "state/root.key");

  auto second = build(spec);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->generatedRoot());
  EXPECT_EQ(second->trustBundle(), first->trustBundle());
  EXPECT_EQ(readText(dir / "state/root.key"), root_key);
  // What the second signs verifies against the first's root.
  writeText(dir / "leaf.pem", issueOk(*second, test::makeCsr(dir, "w")).chain[0]);
  writeText(dir / "first-root.pem", first->trustBundle()[0]);
  const auto verify = sh("openssl verify -CAfile " + (dir / "first-root.pem") + " " + (dir / "leaf.pem"));
  EXPECT_EQ(verify.status, 0) << verify.out;

  // The root's subject, as specified.
  X509Ptr root = test::certOf(first->trustBundle()[0]);
  EXPECT_EQ(subjectOrganization(root.get()), "cluster.local");
  EXPECT_TRUE(critical(root.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(root.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_GT(first->rootNotAfter(), std::chrono::system_clock::now() + std::chrono::hours(24 * 3650));
}

TEST(AuthorityTest, AHalfKeptRootOrAnotherTrustDomainsIsAnErrorNotANewRoot) {
  TempDir dir;
  CaSpec spec = test::specIn(dir);
  spec.dir.loc = {7, 10};
  ASSERT_TRUE(build(spec));
  CaSpec other = spec;
  other.trust_domain = "other.local";
  EXPECT_EQ(buildError(other), "control.yaml:7:10: ca.dir: " + (dir / "state/root.pem") +
                                   " is the root of trust domain 'cluster.local', not 'other.local' (use another dir "
                                   "for another trust domain)\n");
  const std::string root = readText(dir / "state/root.pem");
  ASSERT_EQ(::unlink((dir / "state/root.pem").c_str()), 0);
  EXPECT_NE(buildError(spec).find("ca.dir: " + (dir / "state/root.pem") + " is missing beside"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "state/root.pem")) << "no new root may be made";
}

// An operator's CA made with openssl: a root (30 days) and an intermediate
// it signed (1 day), and an unrelated root.
struct OperatorCa {
  explicit OperatorCa(const TempDir& dir) {
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    for (const char* name : {"root", "stranger"}) {
      const auto r = sh("openssl req -x509" + ec + "-days 30 -subj /O=op/CN=" + name + " -keyout " +
                        (dir / (std::string(name) + ".key")) + " -out " + (dir / (std::string(name) + ".pem")) +
                        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
      EXPECT_EQ(r.status, 0) << r.out;
    }
    writeText(dir / "ext.cnf",
              "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
              "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
    auto r = sh("openssl req -new" + ec + "-subj /O=op/CN=inter -keyout " + (dir / "inter.key") + " -out " +
                (dir / "inter.csr"));
    EXPECT_EQ(r.status, 0) << r.out;
    r = sh("openssl x509 -req -in " + (dir / "inter.csr") + " -CA " + (dir / "root.pem") + " -CAkey " +
           (dir / "root.key") + " -set_serial 4660 -days 1 -extfile " + (dir / "ext.cnf") + " -out " +
           (dir / "inter.pem"));
    EXPECT_EQ(r.status, 0) << r.out;
  }
};

TEST(AuthorityTest, IssuesFromAnOperatorsIntermediateChainingToTheirRoot) {
  TempDir dir;
  OperatorCa op(dir);
  CaSpec spec = test::specIn(dir);
  spec.max_ttl = 72h;
  spec.root = CertKeyFiles{FileRef{dir / "root.pem", {}}, FileRef{}};  // the root's key stays offline
  spec.intermediate = CertKeyFiles{FileRef{dir / "inter.pem", {}}, FileRef{dir / "inter.key", {}}};
  auto a = build(spec);
  ASSERT_TRUE(a);
  EXPECT_FALSE(std::filesystem::exists(dir / "state")) << "nothing generated";
  const IssuedCertificate c = issueOk(*a, test::makeCsr(dir, "w"));
  ASSERT_EQ(c.chain.size(), 2u);
  EXPECT_EQ(c.chain[1], readText(dir / "inter.pem"));
  ASSERT_EQ(c.trust_bundle.size(), 1u);
  EXPECT_EQ(c.trust_bundle[0], readText(dir / "root.pem"));
  writeText(dir / "leaf.pem", c.chain[0]);
  auto verify = sh("openssl verify -CAfile " + (dir / "root.pem") + " -untrusted " + (dir / "inter.pem") + " " +
                   (dir / "leaf.pem"));
  EXPECT_EQ(verify.status, 0) << verify.out;
  verify = sh("openssl verify -CAfile " + (dir / "root.pem") + " " + (dir / "leaf.pem"));
  EXPECT_NE(verify.status, 0) << "the root did not sign the leaf itself";
  // A day-long intermediate caps a 72h request.
  X509Ptr inter = test::certOf(readText(dir / "inter.pem"));
  EXPECT_EQ(issueOk(*a, test::makeCsr(dir, "w"), 72h).not_after, notAfter(inter.get()));
}

TEST(AuthorityTest, OperatorFilesThatDoNotFitAreErrorsAtTheirPositions) {
  TempDir dir;
  OperatorCa op(dir);
  CaSpec spec = test::specIn(dir);
  spec.root = CertKeyFiles{FileRef{dir / "root.pem", {3, 12}}, FileRef{dir / "stranger.key", {3, 30}}};
  EXPECT_EQ(buildError(spec), "control.yaml:3:30: ca.root.key: " + (dir / "stranger.key") +
                                  ": not the key of the certificate beside it\n");

  spec.root = CertKeyFiles{FileRef{dir / "stranger.pem", {3, 12}}, FileRef{}};
  spec.intermediate = CertKeyFiles{FileRef{dir / "inter.pem", {4, 20}}, FileRef{dir / "inter.key", {4, 40}}};
  EXPECT_EQ(buildError(spec), "control.yaml:4:20: ca.intermediate.cert: " + (dir / "inter.pem") +
                                  ": does not verify against the root: unable to get local issuer certificate\n");

  spec.root = CertKeyFiles{FileRef{dir / "missing.pem", {3, 12}}, FileRef{dir / "root.key", {3, 30}}};
  spec.intermediate.reset();
  EXPECT_EQ(buildError(spec),
            "control.yaml:3:12: ca.root.cert: " + (dir / "missing.pem") + ": cannot read: No such file or directory\n");
}

TEST(AuthorityTest, ExtraRootsJoinTheBundleAndAReloadKeepsTheKeys) {
  TempDir dir;
  OperatorCa op(dir);
  CaSpec spec = test::specIn(dir);
  auto a = build(spec);
  ASSERT_TRUE(a);
  spec.extra_roots = {FileRef{dir / "stranger.pem", {}}};
  spec.max_ttl = 3h;
  config::ParseContext ctx("control.yaml");
  auto b = a->withPolicy(spec, ctx);
  ASSERT_TRUE(b) << ctx.str();
  ASSERT_EQ(b->trustBundle().size(), 2u);
  EXPECT_EQ(b->trustBundle()[0], a->trustBundle()[0]);
  EXPECT_EQ(b->trustBundle()[1], readText(dir / "stranger.pem"));
  const SysTime now = std::chrono::system_clock::now();
  const std::string csr = test::makeCsr(dir, "w");
  EXPECT_EQ(issueOk(*b, csr, 3h, now).not_after, wholeSecond(now + 3h));
  EXPECT_EQ(issueOk(*a, csr, 3h, now).not_after, wholeSecond(now + 2h)) << "the old one is unchanged";
  const IssuedCertificate c = issueOk(*b, csr);
  EXPECT_EQ(c.trust_bundle, b->trustBundle());

  const config::SecretSpec secret = trustBundleSecret(*b);
  EXPECT_EQ(secret.name, "ROOTCA");
  EXPECT_EQ(secret.kind, config::SecretSpec::Kind::ValidationContext);
  EXPECT_TRUE(secret.inline_pem);
  EXPECT_EQ(secret.trusted_ca, a->trustBundle()[0] + readText(dir / "stranger.pem"));

  spec.extra_roots = {FileRef{dir / "inter.key", {9, 5}}};
  config::ParseContext bad("control.yaml");
  EXPECT_FALSE(a->withPolicy(spec, bad));
  EXPECT_EQ(bad.str(), "control.yaml:9:5: ca.extra_roots[0]: " + (dir / "inter.key") + ": no PEM certificate in it\n");
}

}  // namespace
}  // namespace sluice::control::ca
