// The webhook's HTTPS server keeps its serving certificate fresh: with a
// CA-issued certificate of a few seconds (a TTL control.yaml refuses, set
// here on the plain struct), a client handshaking all along sees a new
// certificate before the old one expires, never an expired one, never a
// failed handshake, and not a renewal per second either.

#include "control/kubernetes/webhook_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <thread>

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

}  // namespace
}  // namespace sluice::control::kubernetes
