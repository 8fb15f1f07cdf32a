// The webhook's HTTPS server keeps its serving certificate fresh: with a
// CA-issued certificate of a few seconds (a TTL control.yaml refuses, set
// here on the plain struct), a client handshaking all along sees a new
// certificate before the old one expires, never an expired one, never a
// failed handshake, and not a renewal per second either. From the
// operator's files, it reads them again at the recheck and on
// refreshNow() (SIGHUP), and a bad pair leaves the current one serving.

#include "control/kubernetes/webhook_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "control/ca/x509_util.h"
#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control::kubernetes {
namespace {

using namespace std::chrono_literals;
using ca::test::TempDir;

constexpr const char* kName = "sluice-control.sluice-system.svc";

struct Presented {
  std::string serial;  // hex
  ca::SysTime not_after;
};

// One TLS handshake with the server on 127.0.0.1:port, verifying its
// certificate against `root` for kName (and its validity at this moment).
std::optional<Presented> handshake(int port, SSL_CTX* ctx, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<Presented> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    error = "connect failed";
    ::close(fd);
    return out;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, kName);
  SSL_set1_host(ssl, kName);
  if (SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
    char* hex = BN_bn2hex(bn);
    out = Presented{hex, ca::notAfter(cert)};
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(cert);
  } else {
    error = "handshake failed: " + ca::opensslError() + " verify " +
            X509_verify_cert_error_string(SSL_get_verify_result(ssl));
  }
  SSL_free(ssl);
  ::close(fd);
  return out;
}

TEST(WebhookServer, RenewsItsCertificateBeforeItExpiresWithoutFailingAHandshake) {
  TempDir dir;
  config::ParseContext errors("control.yaml");
  const auto authority = ca::Authority::build(ca::test::specIn(dir), std::chrono::system_clock::now(), errors);
  ASSERT_TRUE(authority) << errors.str();
  WebhookServing w;
  w.dns_names = {kName};
  w.certificate_ttl = 4s;
  int issued = 0;  // on the webhook thread, read after stop()
  WebhookServer server(
      "127.0.0.1:0", [](std::string_view, std::string_view, std::string_view) { return WebhookReply{}; },
      [&](ServingCertificate& out, std::string& error) {
        ++issued;
        return issueServingCertificate(*authority, w, std::chrono::system_clock::now(), out, error);
      });
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx.get(), (dir / "state/root.pem").c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);

  // Two and a half lifetimes of handshakes, one every 100 ms.
  std::map<std::string, Presented> seen;
  std::vector<std::string> order;
  const auto until = std::chrono::steady_clock::now() + 10s;
  int handshakes = 0;
  while (std::chrono::steady_clock::now() < until) {
    const auto p = handshake(server.port(), ctx.get(), error);
    ASSERT_TRUE(p) << "handshake " << handshakes << ": " << error;
    ++handshakes;
    // Verified above against the clock; said again so a failure is plain.
    EXPECT_LT(std::chrono::system_clock::now(), p->not_after);
    if (!seen.count(p->serial)) order.push_back(p->serial);
    seen.emplace(p->serial, *p);
    std::this_thread::sleep_for(100ms);
  }
  server.stop();
  // A 4 s certificate renewed at half its life: about six in 10 s. One
  // renewal per second (the timer's floor) would be ten.
  EXPECT_GE(order.size(), 3u) << handshakes << " handshakes";
  EXPECT_LE(issued, 8) << "renewed far more often than at half life";
}

// The files replaced as cert-manager does: a whole new pair, each file
// written aside and renamed over the old one.
void replaceFiles(const TempDir& dir, const ServingCertificate& cert) {
  for (const auto& [name, text] : {std::pair{"tls.crt", cert.chain_pem}, std::pair{"tls.key", cert.key_pem}}) {
    ca::test::writeText(dir / (std::string(name) + ".new"), text);
    ASSERT_EQ(std::rename((dir / (std::string(name) + ".new")).c_str(), (dir / name).c_str()), 0);
  }
}

// Handshakes until the server presents `serial` (true) or `within` passes.
bool presents(int port, SSL_CTX* ctx, const std::string& serial, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  std::string error;
  do {
    const auto p = handshake(port, ctx, error);
    if (p && p->serial == serial) return true;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

std::string serialOf(const ServingCertificate& cert) {
  auto certs = ca::certsFromPem(cert.chain_pem);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(certs.at(0).get()), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

TEST(WebhookServer, ServesTheOperatorsFilesAndTakesTheirReplacement) {
  TempDir dir;
  config::ParseContext errors("control.yaml");
  const auto now = std::chrono::system_clock::now();
  const auto authority = ca::Authority::build(ca::test::specIn(dir), now, errors);
  ASSERT_TRUE(authority) << errors.str();
  WebhookServing w;
  w.dns_names = {kName};
  w.certificate_ttl = std::chrono::hours(1);
  ServingCertificate a, b, c;
  std::string error;
  for (ServingCertificate* cert : {&a, &b, &c}) ASSERT_TRUE(issueServingCertificate(*authority, w, now, *cert, error));
  replaceFiles(dir, a);
  w.cert_file = ca::FileRef{dir / "tls.crt", {}};
  w.key_file = ca::FileRef{dir / "tls.key", {}};
  // The daemon's provider with the recheck shortened from 30 s to 1 s
  // (the server's floor); then, for refreshNow, to an hour.
  std::atomic<int> recheck_s{1};
  WebhookServer server(
      "127.0.0.1:0", [](std::string_view, std::string_view, std::string_view) { return WebhookReply{}; },
      [&](ServingCertificate& out, std::string& why) {
        return loadServingCertificate(w, std::chrono::system_clock::now(), out, why,
                                      std::chrono::seconds(recheck_s.load()));
      });
  ASSERT_TRUE(server.start(error)) << error;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx.get(), (dir / "state/root.pem").c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  ASSERT_TRUE(presents(server.port(), ctx.get(), serialOf(a), 2s)) << "the first files are not served";

  // Replaced: taken at the next look, with no call.
  replaceFiles(dir, b);
  EXPECT_TRUE(presents(server.port(), ctx.get(), serialOf(b), 5s)) << "the replaced files were not read again";

  // Looked at hourly from the next look on: replaced, then refreshNow.
  recheck_s = 3600;
  std::this_thread::sleep_for(1500ms);  // the 1 s look that schedules the hourly one
  replaceFiles(dir, c);
  EXPECT_FALSE(presents(server.port(), ctx.get(), serialOf(c), 1500ms)) << "read again before the hour";
  server.refreshNow();
  EXPECT_TRUE(presents(server.port(), ctx.get(), serialOf(c), 2s)) << "refreshNow did not read the files";

  // A pair that does not match (b's key under c's certificate) is refused:
  // c serves on.
  ca::test::writeText(dir / "tls.key", b.key_pem);
  server.refreshNow();
  std::this_thread::sleep_for(300ms);
  const auto p = handshake(server.port(), ctx.get(), error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->serial, serialOf(c));
  server.stop();
}

}  // namespace
}  // namespace sluice::control::kubernetes
