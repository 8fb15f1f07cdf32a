// HealthChecker over TLS: each probe is a net::Connection over the transport
// the cluster's certificate provider makes (makeUpstreamTransport with the
// checker's own View), against an in-process TLS server on the same loop
// (tls_test_support.h). A check verifies the upstream like a data
// connection does: an unknown CA, a name or SPIFFE ID mismatch, or an
// upstream that refuses our certificate is a failed check, never a timeout.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "proxy/tls/certificate_provider.h"
#include "proxy/upstream/health_checker.h"
#include "proxy/upstream/upstream_transport.h"
#include "tests/unit/tls/tls_test_support.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;
using tls::testing::Peer;
using tls::testing::runUntil;
using tls::testing::TestPki;
using tls::testing::TlsListener;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class NoRandom : public util::RandomSource {
 public:
  uint64_t next() override { return 0; }
};

config::HealthCheckConfig httpConfig() {
  config::HealthCheckConfig cfg;
  cfg.interval = 20ms;
  cfg.no_traffic_interval = 20ms;
  cfg.timeout = 5s;  // a failure within the deadline is never a timeout
  cfg.healthy_threshold = 1;
  cfg.unhealthy_threshold = 1;
  cfg.http.emplace();
  return cfg;
}

// The upstream side: `cert` (a file stem of the test PKI), client
// certificates required from the test root.
tls::ServerTlsConfig upstreamTls(const TestPki& pki, const std::string& cert = "server") {
  tls::ServerTlsConfig c;
  c.certificates.push_back({pki.path(cert + ".crt"), pki.path(cert + ".key")});
  c.ca_bundle_path = pki.path("root.crt");
  c.require_client_cert = true;
  return c;
}

// The cluster side: the `client` certificate, trusting `ca`.
tls::ClientTlsConfig clusterTls(const TestPki& pki, const std::string& ca = "root") {
  tls::ClientTlsConfig c;
  c.cert_chain_path = pki.path("client.crt");
  c.private_key_path = pki.path("client.key");
  c.ca_bundle_path = pki.path(ca + ".crt");
  c.sni = "localhost";
  return c;
}

class HealthCheckerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()) << "PKI generation failed in " << pki_.dir(); }

  // An upstream answering each request (or, for TCP, each "PING") with `reply`.
  void listen(const tls::ServerTlsConfig& cfg, std::string reply) {
    server_ctx_ = tls::testing::buildServer(cfg);
    ASSERT_TRUE(server_ctx_);
    listener_ = std::make_unique<TlsListener>(loop_, [this] { return server_ctx_; });
    listener_->on_data = [this, reply = std::move(reply)](Peer& p, const std::string&) {
      if (contains(p.received, "\r\n\r\n") || contains(p.received, "PING")) {
        if (replied_.insert(&p).second) p.send(reply);
      }
    };
  }

  // A checker of the listener through the cluster's provider, as the main thread runs it.
  void check(const config::HealthCheckConfig& cfg, const tls::ClientTlsConfig& tls) {
    auto created = tls::CertificateProvider::createClient("cluster/test", tls);
    ASSERT_TRUE(created.provider) << created.error;
    view_ = std::make_unique<tls::CertificateProvider::View>(std::move(created.provider));
    checker_ = std::make_unique<HealthChecker>(
        loop_, cfg, "my-cluster", std::vector<ip::Address>{*ip::Address::parse(listener_->hostPort())},
        [this] { return makeUpstreamTransport(view_.get()); }, random_,
        [this](size_t, bool healthy) { flips_.push_back(healthy); }, nullptr);
    checker_->start();
  }
  const HealthChecker::Counters& counters() const { return checker_->counters(0); }

  const TestPki& pki_ = TestPki::get();
  event::Loop loop_;
  NoRandom random_;
  std::shared_ptr<const tls::ServerTlsContext> server_ctx_;
  std::unique_ptr<TlsListener> listener_;
  std::set<const Peer*> replied_;
  std::unique_ptr<tls::CertificateProvider::View> view_;
  std::vector<bool> flips_;
  std::unique_ptr<HealthChecker> checker_;
};

constexpr const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

TEST_F(HealthCheckerTlsTest, HttpCheckOverMutualTls) {
  listen(upstreamTls(pki_), kOk);
  check(httpConfig(), clusterTls(pki_));
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().successes >= 3; })) << counters().failures;
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_EQ(counters().failures, 0u);
  EXPECT_TRUE(flips_.empty());
  // The upstream saw our certificate and a request encoded by the HTTP/1 codec.
  ASSERT_FALSE(listener_->peers.empty());
  const Peer& p = *listener_->peers.front();
  EXPECT_TRUE(p.info.peer_certificate_verified);
  EXPECT_EQ(p.info.peer_spiffe_id, "spiffe://sluice.test/ns/default/sa/client");
  EXPECT_EQ(p.info.sni, "localhost");
  EXPECT_EQ(p.received, "GET /healthz HTTP/1.1\r\nhost: my-cluster\r\nuser-agent: sluice-health-check\r\n\r\n");
}

TEST_F(HealthCheckerTlsTest, FailingStatusOverTls) {
  listen(upstreamTls(pki_), "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  check(httpConfig(), clusterTls(pki_));
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().failures >= 2; }));
  EXPECT_FALSE(checker_->healthy(0));
  EXPECT_EQ(counters().timeouts, 0u);
  EXPECT_EQ(flips_, std::vector<bool>{false});
}

TEST_F(HealthCheckerTlsTest, TcpSendExpectOverTls) {
  listen(upstreamTls(pki_), "PONG\r\n");
  auto cfg = httpConfig();
  cfg.http.reset();
  cfg.tcp.emplace();
  cfg.tcp->send = "PING\r\n";
  cfg.tcp->expect = "PONG";
  check(cfg, clusterTls(pki_));
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().successes >= 3; })) << counters().failures;
  EXPECT_EQ(counters().failures, 0u);
  EXPECT_EQ(listener_->peers.front()->received, "PING\r\n");
}

// Each way the upstream can fail verification: a failed check, counted at
// once (no timeout), and no request bytes ever reach the upstream.
TEST_F(HealthCheckerTlsTest, UnknownCaFailsTheCheck) {
  listen(upstreamTls(pki_), kOk);
  check(httpConfig(), clusterTls(pki_, "other"));
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().failures >= 2; }));
  EXPECT_FALSE(checker_->healthy(0));
  EXPECT_EQ(counters().successes, 0u);
  EXPECT_EQ(counters().timeouts, 0u);
  for (const auto& p : listener_->peers) EXPECT_EQ(p->received, "");
}

TEST_F(HealthCheckerTlsTest, SubjectAltNameMismatchFailsTheCheck) {
  listen(upstreamTls(pki_), kOk);
  auto tls = clusterTls(pki_);
  tls.verify_subject_alt_names = {"api.other.test"};
  check(httpConfig(), tls);
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().failures >= 2; }));
  EXPECT_EQ(counters().successes, 0u);
  EXPECT_EQ(counters().timeouts, 0u);
  for (const auto& p : listener_->peers) EXPECT_EQ(p->received, "");
}

TEST_F(HealthCheckerTlsTest, SpiffeIdIsVerifiedLikeADataConnection) {
  listen(upstreamTls(pki_, "sidecar-b"), kOk);
  auto tls = clusterTls(pki_);
  tls.verify_spiffe_ids = {"spiffe://sluice.test/ns/default/sa/not-b"};
  check(httpConfig(), tls);
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().failures >= 2; }));
  EXPECT_EQ(counters().successes, 0u);
  EXPECT_EQ(counters().timeouts, 0u);

  // The expected identity passes.
  tls.verify_spiffe_ids = {"spiffe://sluice.test/ns/default/sa/b"};
  check(httpConfig(), tls);
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().successes >= 2; })) << counters().failures;
  EXPECT_EQ(counters().failures, 0u);
}

TEST_F(HealthCheckerTlsTest, UpstreamRefusingOurCertificateFailsTheCheck) {
  listen(upstreamTls(pki_), kOk);
  auto tls = clusterTls(pki_);
  tls.cert_chain_path.clear();
  tls.private_key_path.clear();
  check(httpConfig(), tls);
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().failures >= 2; }));
  EXPECT_EQ(counters().successes, 0u);
  EXPECT_EQ(counters().timeouts, 0u);
}

// What a checker without the cluster's transport did: plaintext to a TLS
// port, which the upstream rejects.
TEST_F(HealthCheckerTlsTest, PlaintextCheckOfATlsPortFails) {
  listen(upstreamTls(pki_), kOk);
  HealthChecker plain(loop_, httpConfig(), "c", {*ip::Address::parse(listener_->hostPort())}, nullptr, random_,
                      nullptr, nullptr);
  plain.start();
  ASSERT_TRUE(runUntil(loop_, [&] { return plain.counters(0).failures >= 2; }));
  EXPECT_EQ(plain.counters(0).successes, 0u);
  EXPECT_EQ(plain.counters(0).timeouts, 0u);
}

// A handshake that never completes is bounded by the check's timeout; the
// checker can go away in the middle of one.
TEST_F(HealthCheckerTlsTest, SilentHandshakeTimesOutAndDestructionMidHandshakeIsSafe) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ::listen(fd, 16);  // never accepted: connects complete, no byte comes back
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto created = tls::CertificateProvider::createClient("cluster/test", clusterTls(pki_));
  ASSERT_TRUE(created.provider) << created.error;
  tls::CertificateProvider::View view(created.provider);
  auto cfg = httpConfig();
  cfg.timeout = 50ms;
  const ip::Address silent = *ip::Address::parse("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  checker_ = std::make_unique<HealthChecker>(
      loop_, cfg, "c", std::vector<ip::Address>{silent}, [&] { return makeUpstreamTransport(&view); }, random_,
      nullptr, nullptr);
  checker_->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().timeouts >= 2; }));
  EXPECT_EQ(counters().failures, counters().timeouts);
  ASSERT_TRUE(runUntil(loop_, [&] { return counters().attempts > counters().failures; }));
  checker_.reset();  // a probe is mid-handshake
  runUntil(loop_, [] { return false; }, 100ms);
  ::close(fd);
}

}  // namespace
}  // namespace sluice::upstream
