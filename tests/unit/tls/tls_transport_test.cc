// TlsTransport through real loopback sockets, driven by our event loop and
// net::Connection: the server side against openssl s_client and curl, the
// client side against openssl s_server, and both sides against each other.
#include <gtest/gtest.h>

#include "tests/unit/tls/tls_test_support.h"

namespace sluice::tls {
namespace {

using testing::Child;
using testing::Peer;
using testing::runUntil;
using testing::TestPki;
using testing::TlsListener;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()) << "PKI generation failed in " << pki_.dir(); }

  void listen(const ServerTlsConfig& cfg) {
    ctx_ = testing::buildServer(cfg);
    ASSERT_TRUE(ctx_);
    listener_ = std::make_unique<TlsListener>(loop_, [this] { return ctx_; });
    listener_->on_data = [](Peer& p, const std::string& s) {
      if (contains(p.received, "ping") && !contains(s, "pong")) p.send("pong\n");
    };
  }
  std::vector<std::string> sClient(std::vector<std::string> extra) {
    std::vector<std::string> argv = {"openssl", "s_client", "-connect", listener_->hostPort(),
                                     "-CAfile", pki_.path("root.crt"), "-verify_return_error"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  // A full exchange: handshake, "ping" up, "pong" down, then the client quits.
  // Returns s_client's output; the server side is listener_->peers.back().
  std::string exchange(std::vector<std::string> extra) {
    Child c(sClient(std::move(extra)));
    const size_t before = listener_->peers.size();
    EXPECT_TRUE(runUntil(loop_, [&] {
      return listener_->peers.size() > before && listener_->peers.back()->handshake_done;
    })) << c.output();
    if (listener_->peers.size() <= before) return c.output();
    Peer& p = *listener_->peers.back();
    c.write("ping\n");
    EXPECT_TRUE(runUntil(loop_, [&] { return contains(c.output(), "pong"); })) << c.output();
    // s_client sends close_notify at stdin EOF and waits for ours.
    c.closeStdin();
    EXPECT_TRUE(runUntil(loop_, [&] { return p.eof; })) << c.output();
    p.send("", /*end=*/true);
    EXPECT_TRUE(runUntil(loop_, [&] { return c.exited() && p.closed; })) << c.output();
    EXPECT_EQ(c.exitCode(), 0) << c.output();
    EXPECT_EQ(p.reason, net::CloseReason::Done);
    return c.output();
  }
  // A handshake the server must reject; returns the server side.
  Peer& rejected(std::vector<std::string> extra, std::string* client_output = nullptr) {
    Child c(sClient(std::move(extra)));
    EXPECT_TRUE(runUntil(loop_, [&] { return !listener_->peers.empty() && listener_->peers.back()->closed; }))
        << c.output();
    c.closeStdin();
    runUntil(loop_, [&] { return c.exited(); });
    if (client_output) *client_output = c.output();
    static Peer none;
    return listener_->peers.empty() ? none : *listener_->peers.back();
  }

  const TestPki& pki_ = TestPki::get();
  event::Loop loop_;
  std::shared_ptr<const ServerTlsContext> ctx_;
  std::unique_ptr<TlsListener> listener_;
};

TEST_F(TlsServerTest, HandshakeAlpnAndDataBothWays) {
  listen(testing::serverConfig(pki_));
  const std::string out = exchange({"-servername", "localhost", "-alpn", "http/1.1"});
  EXPECT_TRUE(contains(out, "Verify return code: 0 (ok)")) << out;
  EXPECT_TRUE(contains(out, "ALPN protocol: http/1.1")) << out;
  const Peer& p = *listener_->peers.back();
  EXPECT_EQ(p.info.alpn, "http/1.1");
  EXPECT_EQ(p.conn->transport().protocol(), "http/1.1");
  EXPECT_EQ(p.info.sni, "localhost");
  EXPECT_EQ(p.info.version, "TLSv1.3");
  EXPECT_FALSE(p.info.peer_certificate_presented);
  EXPECT_EQ(p.received, "ping\n");
  // s_client closing its stdin sends close_notify: a clean end of stream.
  EXPECT_TRUE(p.eof);
}

TEST_F(TlsServerTest, ServerPreferenceDecidesAlpn) {
  listen(testing::serverConfig(pki_));
  const std::string out = exchange({"-servername", "localhost", "-alpn", "http/1.1,h2"});
  EXPECT_TRUE(contains(out, "ALPN protocol: h2")) << out;
  EXPECT_EQ(listener_->peers.back()->info.alpn, "h2");
}

TEST_F(TlsServerTest, SniPicksTheCertificate) {
  listen(testing::serverConfig(pki_));
  EXPECT_TRUE(contains(exchange({"-servername", "api.other.test"}), "subject=CN = api.other.test"));
  EXPECT_EQ(listener_->peers.back()->info.sni, "api.other.test");
  // Wildcard SAN of the first certificate.
  EXPECT_TRUE(contains(exchange({"-servername", "foo.sluice.test"}), "subject=CN = localhost"));
  // Unknown name and no SNI: the first certificate (s_client checks nothing
  // about the name without -verify_hostname, the chain still verifies).
  EXPECT_TRUE(contains(exchange({"-servername", "unknown.example"}), "subject=CN = localhost"));
  EXPECT_TRUE(contains(exchange({"-noservername"}), "subject=CN = localhost"));
}

TEST_F(TlsServerTest, Tls12UsesEcdheAeadAndTls11IsRefused) {
  listen(testing::serverConfig(pki_));
  const std::string out = exchange({"-servername", "localhost", "-tls1_2"});
  EXPECT_TRUE(contains(out, "Protocol  : TLSv1.2")) << out;
  EXPECT_EQ(listener_->peers.back()->info.version, "TLSv1.2");
  EXPECT_TRUE(contains(listener_->peers.back()->info.cipher, "ECDHE-ECDSA-AES128-GCM")) << listener_->peers.back()->info.cipher;
  // A CBC-only TLS 1.2 client finds no shared cipher.
  Peer& cbc = rejected({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"});
  EXPECT_EQ(cbc.reason, net::CloseReason::HandshakeFailed);
  // TLS 1.1 (s_client needs security level 0 to even offer it).
  std::string client_out;
  Peer& old = rejected({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, &client_out);
  EXPECT_EQ(old.reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(old.failure, "unsupported protocol")) << old.failure;
  EXPECT_FALSE(old.handshake_done);
}

TEST_F(TlsServerTest, CurlGetsAnHttpResponse) {
  if (std::system("curl --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no curl";
  listen(testing::serverConfig(pki_));
  listener_->on_data = [](Peer& p, const std::string&) {
    if (contains(p.received, "\r\n\r\n") && !p.conn->writeBufferLength()) {
      p.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n");
      p.conn->close(net::CloseType::FlushWrite);
    }
  };
  const std::string url = "https://localhost:" + std::to_string(listener_->port()) + "/";
  Child c({"curl", "-sS", "--http1.1", "--cacert", pki_.path("root.crt"), "--resolve",
           "localhost:" + std::to_string(listener_->port()) + ":127.0.0.1", url});
  ASSERT_TRUE(runUntil(loop_, [&] { return c.exited(); })) << c.output();
  EXPECT_EQ(c.exitCode(), 0) << c.output();
  EXPECT_EQ(c.output(), "ok\n");
  ASSERT_FALSE(listener_->peers.empty());
  EXPECT_EQ(listener_->peers.back()->info.alpn, "http/1.1");
  EXPECT_EQ(listener_->peers.back()->info.sni, "localhost");
}

TEST_F(TlsServerTest, HandshakeTimeoutClosesASilentClient) {
  listen(testing::serverConfig(pki_));
  listener_->handshake_timeout = event::Duration(100);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = *ip::Address::parse(listener_->hostPort());
  ASSERT_EQ(::connect(fd, addr.sockAddr(), addr.sockLen()), 0);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(runUntil(loop_, [&] { return !listener_->peers.empty() && listener_->peers.back()->closed; }));
  EXPECT_EQ(listener_->peers.back()->reason, net::CloseReason::HandshakeTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);  // the proxy closed it
  ::close(fd);
}

class TlsMutualTest : public TlsServerTest {
 protected:
  ServerTlsConfig mtlsConfig() {
    ServerTlsConfig cfg = testing::serverConfig(pki_);
    cfg.ca_bundle_path = pki_.path("root.crt");
    cfg.require_client_cert = true;
    return cfg;
  }
};

TEST_F(TlsMutualTest, ValidClientCertificateYieldsSpiffeId) {
  listen(mtlsConfig());
  exchange({"-servername", "localhost", "-cert", pki_.path("client.crt"), "-key", pki_.path("client.key")});
  const Peer& p = *listener_->peers.back();
  EXPECT_TRUE(p.info.peer_certificate_presented);
  EXPECT_TRUE(p.info.peer_certificate_verified);
  EXPECT_EQ(p.info.peer_spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
  ASSERT_EQ(p.info.peer_uri_sans.size(), 1u);
  EXPECT_TRUE(contains(p.info.peer_subject, "CN=client")) << p.info.peer_subject;
  EXPECT_EQ(p.received, "ping\n");
}

TEST_F(TlsMutualTest, MissingClientCertificateIsRejected) {
  listen(mtlsConfig());
  Peer& p = rejected({"-servername", "localhost"});
  EXPECT_EQ(p.reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p.failure, "peer did not return a certificate")) << p.failure;
  EXPECT_FALSE(p.handshake_done);
}

TEST_F(TlsMutualTest, CertificateFromAnotherCaIsRejected) {
  listen(mtlsConfig());
  Peer& p = rejected({"-cert", pki_.path("stranger.crt"), "-key", pki_.path("stranger.key")});
  EXPECT_EQ(p.reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p.failure, "unable to get local issuer certificate")) << p.failure;
  EXPECT_FALSE(p.handshake_done);
}

TEST_F(TlsMutualTest, ExpiredClientCertificateIsRejected) {
  listen(mtlsConfig());
  Peer& p = rejected({"-cert", pki_.path("expired.crt"), "-key", pki_.path("expired.key")});
  EXPECT_EQ(p.reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p.failure, "certificate has expired")) << p.failure;
}

TEST_F(TlsMutualTest, SpiffeIdOutsideTheAllowedSetIsRejected) {
  ServerTlsConfig cfg = mtlsConfig();
  cfg.verify_spiffe_ids = {"spiffe://sluice.test/ns/default/*"};
  listen(cfg);
  // Same CA, other trust domain.
  Peer& p = rejected({"-cert", pki_.path("intruder.crt"), "-key", pki_.path("intruder.key")});
  EXPECT_EQ(p.reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p.failure, "spiffe://evil.test/ns/default/sa/intruder' is not allowed")) << p.failure;
  // The allowed prefix passes.
  exchange({"-cert", pki_.path("client.crt"), "-key", pki_.path("client.key")});
  EXPECT_EQ(listener_->peers.back()->info.peer_spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
}

TEST_F(TlsServerTest, SessionResumptionAndTicketKeyRotation) {
  auto keys = std::make_shared<SessionTicketKeys>();
  auto built = ServerTlsContext::build(testing::serverConfig(pki_), keys);
  ASSERT_TRUE(built.ok()) << built.error;
  ctx_ = built.context;
  listener_ = std::make_unique<TlsListener>(loop_, [this] { return ctx_; });
  listener_->on_data = [](Peer& p, const std::string&) {
    if (contains(p.received, "ping")) p.send("pong\n");
  };
  for (const char* version : {"-tls1_3", "-tls1_2"}) {
    SCOPED_TRACE(version);
    const std::string sess = pki_.path(std::string("sess") + version);
    std::string out = exchange({version, "-servername", "localhost", "-sess_out", sess});
    EXPECT_TRUE(contains(out, "New, TLSv1.")) << out;
    EXPECT_FALSE(listener_->peers.back()->info.session_reused);
    out = exchange({version, "-servername", "localhost", "-sess_in", sess});
    EXPECT_TRUE(contains(out, "Reused, TLSv1.")) << out;
    EXPECT_TRUE(listener_->peers.back()->info.session_reused);
    // One rotation: the ticket is still accepted (previous key) and renewed.
    keys->rotate();
    out = exchange({version, "-servername", "localhost", "-sess_in", sess});
    EXPECT_TRUE(contains(out, "Reused, TLSv1.")) << out;
    // Two: its key is retired, a full handshake follows.
    keys->rotate();
    out = exchange({version, "-servername", "localhost", "-sess_in", sess});
    EXPECT_TRUE(contains(out, "New, TLSv1.")) << out;
    EXPECT_FALSE(listener_->peers.back()->info.session_reused);
  }
}

// --- client side -------------------------------------------------------------

class TlsClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()); }
  // openssl s_server -rev: answers each line reversed. Returns its port.
  uint16_t startServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
                                     "-cert", pki_.path("server.crt"), "-key", pki_.path("server.key")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<Child>(argv);
    uint16_t port = 0;
    runUntil(loop_, [&] {
      const std::string& out = server_->output();
      const size_t at = out.find("ACCEPT 127.0.0.1:");
      if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
      port = static_cast<uint16_t>(std::stoi(out.substr(at + 17)));
      return true;
    });
    EXPECT_NE(port, 0) << server_->output();
    return port;
  }
  ClientTlsConfig clientConfig() {
    ClientTlsConfig c;
    c.ca_bundle_path = pki_.path("root.crt");
    c.sni = "localhost";
    c.alpn = {"http/1.1"};
    return c;
  }

  const TestPki& pki_ = TestPki::get();
  event::Loop loop_;
  std::unique_ptr<Child> server_;
};

TEST_F(TlsClientTest, VerifiesTheServerAndExchangesData) {
  const uint16_t port = startServer({"-alpn", "http/1.1"});
  auto p = testing::connectTls(loop_, port, testing::buildClient(clientConfig()));
  // Written before the handshake: queued, then sent once it is done.
  p->send("hello\n");
  ASSERT_TRUE(runUntil(loop_, [&] { return p->handshake_done || p->closed; })) << server_->output();
  ASSERT_TRUE(p->handshake_done) << p->failure;
  EXPECT_TRUE(p->info.peer_certificate_verified);
  EXPECT_EQ(p->info.alpn, "http/1.1");
  EXPECT_EQ(p->info.sni, "localhost");
  EXPECT_TRUE(contains(p->info.peer_subject, "CN=localhost"));
  ASSERT_TRUE(runUntil(loop_, [&] { return contains(p->received, "olleh"); })) << server_->output();
  p->conn->close(net::CloseType::NoFlush);
}

TEST_F(TlsClientTest, ExpectedSubjectAltNames) {
  {
    const uint16_t port = startServer();
    ClientTlsConfig cfg = clientConfig();
    cfg.verify_subject_alt_names = {"api.sluice.test"};  // covered by *.sluice.test
    auto p = testing::connectTls(loop_, port, testing::buildClient(cfg));
    ASSERT_TRUE(runUntil(loop_, [&] { return p->handshake_done || p->closed; }));
    EXPECT_TRUE(p->handshake_done) << p->failure;
    p->conn->close(net::CloseType::NoFlush);
  }
  const uint16_t port = startServer();
  ClientTlsConfig cfg = clientConfig();
  cfg.verify_subject_alt_names = {"api.other.test"};
  auto p = testing::connectTls(loop_, port, testing::buildClient(cfg));
  ASSERT_TRUE(runUntil(loop_, [&] { return p->closed; }));
  EXPECT_FALSE(p->handshake_done);
  EXPECT_EQ(p->reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p->failure, "matches none of verify_subject_alt_names")) << p->failure;
}

TEST_F(TlsClientTest, SniNameMustMatchWithoutExplicitNames) {
  const uint16_t port = startServer();
  auto p = testing::connectTls(loop_, port, testing::buildClient(clientConfig()), "wrong.example");
  ASSERT_TRUE(runUntil(loop_, [&] { return p->closed; }));
  EXPECT_EQ(p->reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p->failure, "hostname mismatch")) << p->failure;
}

TEST_F(TlsClientTest, UntrustedServerIsRejected) {
  const uint16_t port = startServer();
  ClientTlsConfig cfg = clientConfig();
  cfg.ca_bundle_path = pki_.path("other.crt");
  auto p = testing::connectTls(loop_, port, testing::buildClient(cfg));
  ASSERT_TRUE(runUntil(loop_, [&] { return p->closed; }));
  EXPECT_EQ(p->reason, net::CloseReason::HandshakeFailed);
  EXPECT_TRUE(contains(p->failure, "unable to get local issuer certificate")) << p->failure;
}

// --- both sides ours ---------------------------------------------------------

class TlsLoopbackTest : public TlsServerTest {};

TEST_F(TlsLoopbackTest, MutualTlsBulkEchoAndHalfClose) {
  ServerTlsConfig scfg = testing::serverConfig(pki_);
  scfg.ca_bundle_path = pki_.path("root.crt");
  scfg.require_client_cert = true;
  listen(scfg);
  listener_->on_data = [](Peer& p, const std::string& s) { p.send(s); };  // echo
  ClientTlsConfig ccfg;
  ccfg.ca_bundle_path = pki_.path("root.crt");
  ccfg.cert_chain_path = pki_.path("client.crt");
  ccfg.private_key_path = pki_.path("client.key");
  ccfg.sni = "api.sluice.test";
  ccfg.verify_spiffe_ids = {};
  ccfg.alpn = {"http/1.1"};
  auto client = testing::connectTls(loop_, listener_->port(), testing::buildClient(ccfg));
  std::string sent(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 26);
  client->conn->setBufferLimit(1 << 30);
  client->send(sent, /*end=*/true);
  ASSERT_TRUE(runUntil(loop_, [&] { return client->received.size() >= sent.size() || client->closed; },
                       std::chrono::seconds(20)));
  EXPECT_TRUE(client->received == sent) << client->received.size();
  Peer& server = *listener_->peers.back();
  EXPECT_EQ(server.info.peer_spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
  EXPECT_EQ(server.info.sni, "api.sluice.test");
  EXPECT_EQ(server.info.alpn, "http/1.1");
  // The client's FIN arrived (close_notify) while the server can still write.
  EXPECT_TRUE(server.eof);
  EXPECT_TRUE(server.conn->open());
  server.send("bye", /*end=*/true);
  ASSERT_TRUE(runUntil(loop_, [&] { return client->closed && server.closed; }));
  EXPECT_EQ(client->reason, net::CloseReason::Done);
  EXPECT_EQ(server.reason, net::CloseReason::Done);
  EXPECT_TRUE(client->eof);
}

}  // namespace
}  // namespace sluice::tls
