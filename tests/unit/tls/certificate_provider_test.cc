// Certificate rotation: files change under a running listener; new
// handshakes see the new certificate, open connections keep going, a bad
// file is rejected and counted while the old certificate keeps serving.
#include "proxy/tls/certificate_provider.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/unit/tls/tls_test_support.h"

namespace sluice::tls {
namespace {

using testing::Peer;
using testing::runUntil;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class CertificateProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok());
    dir_ = pki_.path("rot_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
    install("server");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Atomically replaces the served files (as a secret volume update does).
  void install(const std::string& name) {
    for (const char* ext : {".crt", ".key"}) {
      std::filesystem::copy_file(pki_.path(name + ext), dir_ + "/tmp" + ext,
                                 std::filesystem::copy_options::overwrite_existing);
      std::filesystem::rename(dir_ + "/tmp" + ext, dir_ + "/tls" + ext);
    }
  }
  ServerTlsConfig config() {
    ServerTlsConfig c;
    c.certificates.push_back({dir_ + "/tls.crt", dir_ + "/tls.key"});
    return c;
  }
  std::shared_ptr<const ClientTlsContext> client() {
    ClientTlsConfig c;
    c.ca_bundle_path = pki_.path("root.crt");
    c.verify_subject_alt_names = {"localhost", "api.other.test"};
    return testing::buildClient(c);
  }
  std::unique_ptr<Peer> handshake(testing::TlsListener& l) {
    auto p = testing::connectTls(loop_, l.port(), client());
    EXPECT_TRUE(runUntil(loop_, [&] { return p->handshake_done || p->closed; }));
    EXPECT_TRUE(p->handshake_done) << p->failure;
    return p;
  }
  int64_t counter(const std::string& name, const std::string& result) {
    return stats::namedCounter("sluice_tls_certificate_reloads_total", "", {{"name", name}, {"result", result}})
        ->value();
  }

  const testing::TestPki& pki_ = testing::TestPki::get();
  std::string dir_;
  event::Loop loop_;
};

TEST_F(CertificateProviderTest, ReloadSwapsForNewHandshakesOnly) {
  auto created = CertificateProvider::createServer("rotate_ok", config());
  ASSERT_TRUE(created.provider) << created.error;
  auto provider = created.provider;
  // The listener reads the context the way a worker does: through a View.
  CertificateProvider::View view(provider);
  testing::TlsListener listener(loop_, [&] { return view.server(); });
  listener.on_data = [](Peer& p, const std::string& s) { p.send(s); };

  auto old_conn = handshake(listener);
  EXPECT_TRUE(contains(old_conn->info.peer_subject, "CN=localhost"));
  EXPECT_FALSE(provider->checkForChanges());  // nothing changed yet
  const uint64_t v1 = provider->version();

  install("server2");
  EXPECT_TRUE(provider->checkForChanges());
  EXPECT_EQ(provider->version(), v1 + 1);
  EXPECT_EQ(counter("rotate_ok", "success"), 1);

  auto new_conn = handshake(listener);
  EXPECT_TRUE(contains(new_conn->info.peer_subject, "CN=api.other.test")) << new_conn->info.peer_subject;
  // The connection made before the reload still carries data.
  old_conn->send("still here");
  ASSERT_TRUE(runUntil(loop_, [&] { return old_conn->received == "still here"; }));
  EXPECT_TRUE(old_conn->conn->open());
}

TEST_F(CertificateProviderTest, BadFilesAreRejectedAndTheOldCertificateServes) {
  auto created = CertificateProvider::createServer("rotate_bad", config());
  ASSERT_TRUE(created.provider) << created.error;
  auto provider = created.provider;
  CertificateProvider::View view(provider);
  testing::TlsListener listener(loop_, [&] { return view.server(); });
  const uint64_t v1 = provider->version();

  // Garbage certificate.
  { std::ofstream(dir_ + "/tls.crt") << "-----BEGIN CERTIFICATE-----\nnope\n"; }
  EXPECT_TRUE(provider->checkForChanges());
  EXPECT_EQ(provider->version(), v1);
  EXPECT_EQ(counter("rotate_bad", "failure"), 1);
  EXPECT_FALSE(provider->checkForChanges());  // not retried until the file changes again
  EXPECT_EQ(counter("rotate_bad", "failure"), 1);
  EXPECT_TRUE(contains(handshake(listener)->info.peer_subject, "CN=localhost"));

  // A key that does not match the certificate (cert replaced, key not yet).
  std::filesystem::copy_file(pki_.path("server2.crt"), dir_ + "/tls.crt",
                             std::filesystem::copy_options::overwrite_existing);
  auto r = provider->reload();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "does not match")) << r.error;

  // An expired certificate.
  install("expired");
  r = provider->reload();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "certificate has expired")) << r.error;
  EXPECT_EQ(counter("rotate_bad", "failure"), 3);
  EXPECT_EQ(provider->version(), v1);
  EXPECT_TRUE(contains(handshake(listener)->info.peer_subject, "CN=localhost"));

  // A good file again.
  install("server2");
  EXPECT_TRUE(provider->reload().ok);
  EXPECT_TRUE(contains(handshake(listener)->info.peer_subject, "CN=api.other.test"));
}

TEST_F(CertificateProviderTest, CreateFailsOnBadFilesAndExpiryGauge) {
  ServerTlsConfig bad = config();
  bad.certificates[0].private_key_path = dir_ + "/absent.key";
  auto created = CertificateProvider::createServer("create_bad", bad);
  EXPECT_FALSE(created.provider);
  EXPECT_TRUE(contains(created.error, "absent.key")) << created.error;

  const auto now = std::chrono::system_clock::now();
  created = CertificateProvider::createServer("expiry", config(), nullptr, now);
  ASSERT_TRUE(created.provider) << created.error;
  const auto expiries = created.provider->secondsToExpiry(now);
  ASSERT_EQ(expiries.size(), 1u);
  EXPECT_GT(expiries[0].seconds, 364 * 86400);
  EXPECT_LE(expiries[0].seconds, 366 * 86400);
  auto gauge = stats::namedCounter("sluice_tls_certificate_expiry_seconds", "",
                                   {{"name", "expiry"}, {"certificate", "0"}}, true);
  EXPECT_EQ(gauge->value(), expiries[0].seconds);
  // A day later the gauge has followed.
  created.provider->checkForChanges(now + std::chrono::hours(24));
  EXPECT_EQ(gauge->value(), expiries[0].seconds - 86400);
}

TEST_F(CertificateProviderTest, ClientProviderReloadsItsCertificate) {
  ClientTlsConfig c;
  c.ca_bundle_path = pki_.path("root.crt");
  c.cert_chain_path = dir_ + "/tls.crt";
  c.private_key_path = dir_ + "/tls.key";
  install("client");
  auto created = CertificateProvider::createClient("upstream", c);
  ASSERT_TRUE(created.provider) << created.error;
  CertificateProvider::View view(created.provider);
  EXPECT_EQ(view.client()->certificates().at(0).spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
  install("intruder");
  EXPECT_TRUE(created.provider->checkForChanges());
  EXPECT_EQ(view.client()->certificates().at(0).spiffe_id, "spiffe://evil.test/ns/default/sa/intruder");
  EXPECT_EQ(view.server(), nullptr);
}

}  // namespace
}  // namespace sluice::tls
