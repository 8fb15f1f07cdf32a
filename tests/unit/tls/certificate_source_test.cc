// Certificate sources: providers work from PEM held in memory exactly as
// from files (handshakes, rotation on a new version, bad material refused
// while the old context serves), and the file source stamps and labels its
// files.
#include "proxy/tls/certificate_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "proxy/tls/certificate_provider.h"
#include "proxy/tls/file_certificate_source.h"
#include "proxy/tls/memory_certificate_source.h"
#include "tests/unit/tls/tls_test_support.h"

namespace sluice::tls {
namespace {

using testing::Peer;
using testing::runUntil;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class CertificateSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()); }

  // The PKI's files, as bytes: the contexts below never see a path.
  std::string pem(const std::string& file) const {
    std::ifstream in(pki_.path(file), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::shared_ptr<MemoryCertificateSource> certificate(const std::string& name, const std::string& pki_name) {
    auto s = std::make_shared<MemoryCertificateSource>(name);
    s->setCertificate(pem(pki_name + ".crt"), pem(pki_name + ".key"));
    return s;
  }
  std::shared_ptr<MemoryCertificateSource> trust(const std::string& name) {
    auto s = std::make_shared<MemoryCertificateSource>(name);
    s->setTrustedCa(pem("root.crt"));
    return s;
  }
  // A client provider trusting the test root, from memory.
  std::shared_ptr<CertificateProvider> clientProvider(const std::string& name,
                                                      std::shared_ptr<MemoryCertificateSource> cert = nullptr) {
    ClientTlsOptions options;
    options.verify_subject_alt_names = {"localhost", "api.other.test"};
    auto created = CertificateProvider::createClient(name, options, {std::move(cert), trust(name + "-ca")});
    EXPECT_TRUE(created.provider) << created.error;
    return created.provider;
  }
  std::unique_ptr<Peer> handshake(testing::TlsListener& l, CertificateProvider::View& client) {
    auto p = testing::connectTls(loop_, l.port(), client.client());
    EXPECT_TRUE(runUntil(loop_, [&] { return p->handshake_done || p->closed; }));
    EXPECT_TRUE(p->handshake_done) << p->failure;
    return p;
  }
  int64_t counter(const std::string& name, const std::string& result) {
    return stats::namedCounter("sluice_tls_certificate_reloads_total", "", {{"name", name}, {"result", result}})
        ->value();
  }

  const testing::TestPki& pki_ = testing::TestPki::get();
  event::Loop loop_;
};

TEST_F(CertificateSourceTest, ProviderFromMemoryHandshakesAndRotatesOnANewVersion) {
  auto source = certificate("web-cert", "server");
  auto created = CertificateProvider::createServer("mem_rotate", ServerTlsOptions{}, {{source}, nullptr});
  ASSERT_TRUE(created.provider) << created.error;
  auto provider = created.provider;
  CertificateProvider::View view(provider);
  testing::TlsListener listener(loop_, [&] { return view.server(); });
  CertificateProvider::View client(clientProvider("mem_rotate_client"));

  auto first = handshake(listener, client);
  EXPECT_TRUE(contains(first->info.peer_subject, "CN=localhost")) << first->info.peer_subject;
  EXPECT_TRUE(first->info.peer_certificate_verified);
  EXPECT_EQ(view.server()->certificates().at(0).cert_chain_path, "memory 'web-cert'");
  EXPECT_FALSE(provider->checkForChanges());
  const uint64_t v1 = provider->version();

  // A new version of the material: the next check swaps the context.
  source->setCertificate(pem("server-new.crt"), pem("server-new.key"));
  EXPECT_TRUE(provider->checkForChanges());
  EXPECT_EQ(provider->version(), v1 + 1);
  EXPECT_EQ(counter("mem_rotate", "success"), 1);
  auto second = handshake(listener, client);
  EXPECT_TRUE(contains(second->info.peer_subject, "CN=localhost-rotated")) << second->info.peer_subject;
}

TEST_F(CertificateSourceTest, BadBytesAreRefusedAndTheOldContextServes) {
  auto source = certificate("web-cert", "server");
  auto created = CertificateProvider::createServer("mem_bad", ServerTlsOptions{}, {{source}, nullptr});
  ASSERT_TRUE(created.provider) << created.error;
  auto provider = created.provider;
  CertificateProvider::View view(provider);
  testing::TlsListener listener(loop_, [&] { return view.server(); });
  CertificateProvider::View client(clientProvider("mem_bad_client"));
  const uint64_t v1 = provider->version();

  source->setCertificate("-----BEGIN CERTIFICATE-----\nnope\n", pem("server.key"));
  EXPECT_TRUE(provider->checkForChanges());
  EXPECT_EQ(provider->version(), v1);
  EXPECT_EQ(counter("mem_bad", "failure"), 1);
  EXPECT_FALSE(provider->checkForChanges());  // not retried until a new version
  EXPECT_EQ(counter("mem_bad", "failure"), 1);
  EXPECT_TRUE(contains(handshake(listener, client)->info.peer_subject, "CN=localhost"));

  // Errors name the material by the source's label.
  auto r = provider->reload();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "memory 'web-cert' cert_chain: not a PEM certificate chain")) << r.error;
  source->setCertificate(pem("server2.crt"), pem("server.key"));
  r = provider->reload();
  EXPECT_TRUE(contains(r.error, "memory 'web-cert' private_key: does not match the certificate in")) << r.error;
  source->setCertificate(pem("expired.crt"), pem("expired.key"));
  r = provider->reload();
  EXPECT_TRUE(contains(r.error, "memory 'web-cert' cert_chain: certificate has expired")) << r.error;
  EXPECT_EQ(provider->version(), v1);
  EXPECT_TRUE(contains(handshake(listener, client)->info.peer_subject, "CN=localhost"));

  source->setCertificate(pem("server2.crt"), pem("server2.key"));
  EXPECT_TRUE(provider->checkForChanges());
  EXPECT_EQ(provider->version(), v1 + 1);
  EXPECT_TRUE(contains(handshake(listener, client)->info.peer_subject, "CN=api.other.test"));
}

TEST_F(CertificateSourceTest, MutualTlsFromMemoryWithAChain) {
  // The leaf followed by its issuer: the chain is sent whole.
  auto server_cert = std::make_shared<MemoryCertificateSource>("web-cert");
  server_cert->setCertificate(pem("server.crt") + pem("root.crt"), pem("server.key"));
  ServerTlsOptions options;
  options.require_client_cert = true;
  options.verify_spiffe_ids = {"spiffe://sluice.test/ns/default/sa/client"};
  auto created = CertificateProvider::createServer("mem_mtls", options, {{server_cert}, trust("clients-ca")});
  ASSERT_TRUE(created.provider) << created.error;
  CertificateProvider::View view(created.provider);
  EXPECT_TRUE(view.server()->verifiesClients());
  testing::TlsListener listener(loop_, [&] { return view.server(); });

  auto client_provider = clientProvider("mem_mtls_client", certificate("client-cert", "client"));
  ASSERT_TRUE(client_provider);
  EXPECT_EQ(client_provider->clientContext()->certificates().at(0).spiffe_id,
            "spiffe://sluice.test/ns/default/sa/client");
  CertificateProvider::View client(client_provider);
  auto p = handshake(listener, client);
  ASSERT_TRUE(runUntil(loop_, [&] { return !listener.peers.empty() && listener.peers.back()->handshake_done; }));
  const Peer& server_side = *listener.peers.back();
  EXPECT_EQ(server_side.info.peer_spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
  EXPECT_TRUE(server_side.info.peer_certificate_verified);

  // Without a client certificate the handshake fails.
  CertificateProvider::View anonymous(clientProvider("mem_mtls_anonymous"));
  auto q = testing::connectTls(loop_, listener.port(), anonymous.client());
  ASSERT_TRUE(runUntil(loop_, [&] { return q->closed; }));
}

TEST_F(CertificateSourceTest, MissingOrWrongMaterialFailsCreation) {
  auto empty = std::make_shared<MemoryCertificateSource>("not-yet");
  auto created = CertificateProvider::createServer("mem_empty", ServerTlsOptions{}, {{empty}, nullptr});
  EXPECT_FALSE(created.provider);
  EXPECT_TRUE(contains(created.error, "memory 'not-yet': holds no certificate and key")) << created.error;

  // A trust bundle where a certificate belongs, and the reverse.
  created = CertificateProvider::createServer("mem_kind", ServerTlsOptions{}, {{trust("root")}, nullptr});
  EXPECT_TRUE(contains(created.error, "memory 'root': holds no certificate and key")) << created.error;
  created = CertificateProvider::createServer("mem_kind", ServerTlsOptions{},
                                              {{certificate("a", "server")}, certificate("b", "server")});
  EXPECT_TRUE(contains(created.error, "memory 'b': holds no trust bundle")) << created.error;

  ServerTlsOptions mtls;
  mtls.require_client_cert = true;
  created = CertificateProvider::createServer("mem_notrust", mtls, {{certificate("a", "server")}, nullptr});
  EXPECT_TRUE(contains(created.error, "require_client_cert: needs ca_bundle_path")) << created.error;
}

TEST_F(CertificateSourceTest, FileSourceStampsAndLabelsItsFiles) {
  const std::string dir = pki_.path("filesource");
  std::filesystem::create_directories(dir);
  const auto overwrite = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(pki_.path("server.crt"), dir + "/tls.crt", overwrite);
  std::filesystem::copy_file(pki_.path("server.key"), dir + "/tls.key", overwrite);
  auto source = FileCertificateSource::certificate("certificates[0].", dir + "/tls.crt", dir + "/tls.key");
  EXPECT_TRUE(source->changed());  // never read
  SourceMaterial m = source->read();
  ASSERT_TRUE(m.certificate);
  EXPECT_FALSE(m.trusted_ca);
  EXPECT_EQ(m.certificate->cert_chain.text, pem("server.crt"));
  EXPECT_EQ(m.certificate->cert_chain.origin, dir + "/tls.crt");
  EXPECT_EQ(m.certificate->cert_chain.label, "certificates[0].cert_chain_path '" + dir + "/tls.crt'");
  EXPECT_EQ(m.certificate->private_key.label, "certificates[0].private_key_path '" + dir + "/tls.key'");
  EXPECT_FALSE(source->changed());

  // Replaced by rename (a new inode), as a secret volume update does.
  std::filesystem::copy_file(pki_.path("server2.crt"), dir + "/tmp.crt");
  std::filesystem::rename(dir + "/tmp.crt", dir + "/tls.crt");
  EXPECT_TRUE(source->changed());
  EXPECT_EQ(source->read().certificate->cert_chain.text, pem("server2.crt"));
  EXPECT_FALSE(source->changed());

  // A missing file is material that cannot be had, and a change.
  std::filesystem::remove(dir + "/tls.key");
  EXPECT_TRUE(source->changed());
  m = source->read();
  EXPECT_EQ(m.certificate->private_key.unavailable, "cannot read: No such file or directory");
  EXPECT_FALSE(source->changed());
  std::filesystem::remove_all(dir);

  auto ca = FileCertificateSource::trustedCa(pki_.path("root.crt"));
  m = ca->read();
  ASSERT_TRUE(m.trusted_ca);
  EXPECT_EQ(m.trusted_ca->label, "ca_bundle_path '" + pki_.path("root.crt") + "'");
}

TEST_F(CertificateSourceTest, ContextsBuildFromPemDirectly) {
  ServerTlsMaterial server;
  server.certificates.push_back({{pem("server.crt"), "a", "a chain", ""}, {pem("server.key"), "a", "a key", ""}});
  server.trusted_ca = Pem{"junk", "ca", "the bundle", ""};
  auto built = ServerTlsContext::build(ServerTlsOptions{}, server);
  EXPECT_TRUE(contains(built.error, "the bundle: no usable PEM certificates")) << built.error;
  server.trusted_ca = Pem{pem("root.crt") + pem("other.crt"), "ca", "the bundle", ""};
  built = ServerTlsContext::build(ServerTlsOptions{}, server);
  ASSERT_TRUE(built.ok()) << built.error;
  EXPECT_TRUE(built.context->verifiesClients());
  EXPECT_EQ(built.context->certificates().at(0).cert_chain_path, "a");

  ClientTlsMaterial client;
  client.certificate = CertificatePem{{pem("client.crt"), "c", "c chain", ""}, {"", "c", "c key", "not received"}};
  auto cbuilt = ClientTlsContext::build(ClientTlsOptions{}, client);
  EXPECT_EQ(cbuilt.error, "c key: not received");
}

}  // namespace
}  // namespace sluice::tls
