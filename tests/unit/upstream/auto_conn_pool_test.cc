// AutoConnPool on the real loop against in-process TLS upstreams
// (tls_test_support.h) whose ALPN answer a test picks and may change: how
// requests wait while the host's answer is learned, every way that wait can
// end (served, cancelled, timed out, refused by a breaker, the pool going
// away), and a host that changes its answer. Each test ends with every
// breaker slot given back and the connection gauges at zero.
#include "proxy/upstream/auto_conn_pool.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/tls/tls_test_support.h"
#include "tests/unit/upstream/pool_requester.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;
using tls::testing::Peer;
using tls::testing::runUntil;
using tls::testing::TestPki;
using tls::testing::TlsListener;
using upstream::testing::Requester;

constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

class AutoConnPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << "PKI generation failed in " << pki_.dir();
    tls::ClientTlsConfig client;
    client.ca_bundle_path = pki_.path("root.crt");
    client.sni = "localhost";
    client.alpn = {"h2", "http/1.1"};
    client_ctx_ = tls::testing::buildClient(client);
    ASSERT_TRUE(client_ctx_);
  }
  void TearDown() override {
    pool_.reset();
    // Nothing is left holding a slot or counted as open.
    EXPECT_EQ(shared_.breakers(RoutingPriority::Normal).pending.active(), 0);
    EXPECT_EQ(shared_.breakers(RoutingPriority::High).pending.active(), 0);
    EXPECT_EQ(shared_.breakers(RoutingPriority::Normal).connections.active(), 0);
    EXPECT_EQ(cluster_stats_.upstream_cx_active.value(), 0);
    EXPECT_EQ(host_stats_.cx_active.value(), 0);
  }

  // A TLS upstream answering `alpn` (server preference; empty: no ALPN),
  // with an HTTP/1.1 200 to each request; an HTTP/2 client hears nothing.
  void listen(std::vector<std::string> alpn) {
    answer(std::move(alpn));
    listener_ = std::make_unique<TlsListener>(loop_, [this] { return server_ctx_; });
    listener_->on_data = [this](Peer& p, const std::string&) {
      if (p.received.starts_with("PRI ")) return;
      size_t requests = 0;
      for (size_t at = p.received.find("\r\n\r\n"); at != std::string::npos; at = p.received.find("\r\n\r\n", at + 4))
        ++requests;
      for (size_t& answered = answered_[&p]; answered < requests; ++answered) p.send(std::string(kOk));
    };
  }
  // Its next connections answer `alpn` instead.
  void answer(std::vector<std::string> alpn) {
    tls::ServerTlsConfig cfg = tls::testing::serverConfig(pki_);
    cfg.alpn = std::move(alpn);
    server_ctx_ = tls::testing::buildServer(cfg);
    ASSERT_TRUE(server_ctx_);
  }

  // The pool of one host, with settings_ (over the cluster's breakers and
  // TLS offering h2 and http/1.1).
  void makePool(const ip::Address& address) {
    host_.address = address;
    host_.name = address.str();
    host_.stats = &host_stats_;
    settings_.shared = &shared_;
    settings_.transport = [ctx = client_ctx_] { return std::make_unique<tls::TlsTransport>(ctx, "localhost"); };
    pool_ = std::make_unique<AutoConnPool>(loop_, host_, settings_, &cluster_stats_);
  }
  ip::Address listenerAddress() const { return *ip::Address::parse(listener_->hostPort()); }

  PendingStream* ask(Requester& r) {
    r.handle = pool_->newStream(r, r, r, RoutingPriority::Normal);
    return r.handle;
  }
  // An HTTP/1.1 host, its pool, and `rs` waiting there for its answer.
  void waitForHttp1Host(std::vector<Requester*> rs) {
    listen({"http/1.1"});
    makePool(listenerAddress());
    for (Requester* r : rs) ASSERT_NE(ask(*r), nullptr);
    EXPECT_EQ(pendingSlots(), static_cast<int64_t>(rs.size()));
  }
  int64_t pendingSlots() const { return shared_.breakers(RoutingPriority::Normal).pending.active(); }
  int64_t connectFailures() const {
    return cluster_stats_.upstream_cx_connect_fail.value() + cluster_stats_.upstream_cx_connect_timeout.value();
  }
  // Runs the loop until every one of `rs` is served.
  bool allServed(std::vector<Requester*> rs) {
    return runUntil(loop_, [&] {
      bool all = true;
      for (Requester* r : rs) all = r->served() && all;
      return all;
    });
  }
  // A few turns of the loop, for what must not happen.
  void spin(std::chrono::milliseconds d = 100ms) {
    runUntil(
        loop_, [] { return false; }, d);
  }

  const TestPki& pki_ = TestPki::get();
  event::Loop loop_;
  ClusterShared shared_;
  stats::ClusterStats cluster_stats_;
  stats::HostStats host_stats_;
  std::shared_ptr<const tls::ClientTlsContext> client_ctx_;
  std::shared_ptr<const tls::ServerTlsContext> server_ctx_;
  std::unique_ptr<TlsListener> listener_;
  std::map<const Peer*, size_t> answered_;  // requests answered, per connection
  Host host_;
  PoolSettings settings_;
  std::unique_ptr<AutoConnPool> pool_;
};

// A loopback port that, listening, accepts TCP (into the kernel's backlog)
// and never speaks TLS, so a handshake there never ends; not listening, it
// refuses every connect.
struct LoopbackPort {
  explicit LoopbackPort(bool listening) : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    if (listening) ::listen(fd, 16);
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    address = *ip::Address::parse("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)));
  }
  ~LoopbackPort() { ::close(fd); }
  int fd;
  ip::Address address;
};

TEST_F(AutoConnPoolTest, RequestsWaitForTheAnswerAndAreHandedOverWithTheirSlots) {
  Requester a, b;
  waitForHttp1Host({&a, &b});
  ASSERT_TRUE(allServed({&a, &b}));
  EXPECT_EQ(pool_->known(), Protocol::Http1);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(pendingSlots(), 0);
  // The discovery connection served `a`; `b` got one of its own.
  EXPECT_EQ(cluster_stats_.upstream_cx_total.value(), 2);
  EXPECT_EQ(host_stats_.cx_total.value(), 2);
  EXPECT_EQ(connectFailures(), 0);
}

// A reload lowers the pending-request limit below what is waiting: the
// requests admitted before keep their slots through the hand-over (as they
// do when another worker takes every slot given back), none fails.
TEST_F(AutoConnPoolTest, TheHandOverKeepsEachWaitingRequestsSlot) {
  Requester a, b, c;
  waitForHttp1Host({&a, &b, &c});
  settings_.breakers.normal.max_pending_requests = 1;
  pool_->update(host_, settings_, &cluster_stats_);
  ASSERT_TRUE(allServed({&a, &b, &c}));
  EXPECT_FALSE(a.failure);
  EXPECT_FALSE(b.failure);
  EXPECT_FALSE(c.failure);
  EXPECT_EQ(cluster_stats_.upstream_rq_pending_overflow.value(), 0);
  EXPECT_EQ(pendingSlots(), 0);
}

TEST_F(AutoConnPoolTest, OneOfSeveralCancelledDuringDiscoveryHearsNothing) {
  Requester a, b, c;
  waitForHttp1Host({&a, &b, &c});
  b.handle->cancel();
  EXPECT_EQ(pendingSlots(), 2);
  ASSERT_TRUE(allServed({&a, &c}));
  spin();
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(pendingSlots(), 0);
}

// Every waiting request cancelled: the discovery connection's answer is
// still learned and its connection kept, but nobody hears of it.
TEST_F(AutoConnPoolTest, AllCancelledDuringDiscoveryThenItsAnswerCallsNobody) {
  Requester a, b;
  waitForHttp1Host({&a, &b});
  a.handle->cancel();
  b.handle->cancel();
  EXPECT_EQ(pendingSlots(), 0);
  ASSERT_TRUE(runUntil(loop_, [&] { return pool_->known().has_value(); }));
  spin();
  EXPECT_EQ(a.calls + b.calls, 0);
  EXPECT_EQ(pool_->known(), Protocol::Http1);
  EXPECT_EQ(cluster_stats_.upstream_cx_active.value(), 1);  // idle in the HTTP/1 pool
  // It serves the next request.
  Requester next;
  ask(next);
  ASSERT_TRUE(allServed({&next}));
  EXPECT_EQ(cluster_stats_.upstream_cx_total.value(), 1);
}

TEST_F(AutoConnPoolTest, AllCancelledDuringADiscoveryThatFailsCallsNobody) {
  LoopbackPort refusing(false);
  makePool(refusing.address);
  Requester a;
  ask(a);
  a.handle->cancel();
  ASSERT_TRUE(runUntil(loop_, [&] { return connectFailures() == 1; }));
  spin();
  EXPECT_EQ(a.calls, 0);
  EXPECT_FALSE(pool_->known());
}

TEST_F(AutoConnPoolTest, ADiscoveryThatTimesOutFailsEveryWaitingRequestOnce) {
  LoopbackPort silent(true);
  settings_.connect_timeout = 50ms;
  makePool(silent.address);
  Requester a, b;
  ask(a);
  ask(b);
  ASSERT_TRUE(runUntil(loop_, [&] { return a.failure && b.failure; }));
  EXPECT_EQ(a.failure, StreamResetReason::ConnectTimeout);
  EXPECT_EQ(b.failure, StreamResetReason::ConnectTimeout);
  spin();
  EXPECT_EQ(a.calls + b.calls, 2);
  EXPECT_EQ(cluster_stats_.upstream_cx_connect_timeout.value(), 1);  // one connection, one failure
  EXPECT_EQ(host_stats_.cx_connect_fail.value(), 1);
  EXPECT_EQ(pendingSlots(), 0);
  EXPECT_EQ(shared_.breakers(RoutingPriority::Normal).connections.active(), 0);
  EXPECT_FALSE(pool_->known());
}

TEST_F(AutoConnPoolTest, AFullConnectionBreakerOverflowsAtOnce) {
  listen({"http/1.1"});
  settings_.breakers.normal.max_connections = 0;
  makePool(listenerAddress());
  Requester a;
  EXPECT_EQ(ask(a), nullptr);  // answered inside the call
  EXPECT_EQ(a.failure, StreamResetReason::Overflow);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(cluster_stats_.upstream_cx_overflow.value(), 1);
  EXPECT_EQ(pendingSlots(), 0);
  EXPECT_EQ(connectFailures(), 0);
  EXPECT_EQ(cluster_stats_.upstream_cx_total.value(), 0);
}

// The first request handed over is served at once, and its callback cancels
// the next one, still waiting for its turn: that one hears nothing, the one
// after it is handed over and served.
TEST_F(AutoConnPoolTest, AHandedOverRequestsCallbackCancelsAnother) {
  Requester a, b, c;
  waitForHttp1Host({&a, &b, &c});
  a.on_ready = [&] { b.handle->cancel(); };
  ASSERT_TRUE(allServed({&a, &c}));
  spin();
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(pendingSlots(), 0);
}

// And a callback that cancels a request already handed over (waiting in the
// inner pool for a connection of its own).
TEST_F(AutoConnPoolTest, AHandedOverRequestsCallbackCancelsOneAlreadyHandedOver) {
  Requester a, b, c;
  waitForHttp1Host({&a, &b, &c});
  // `a` is served by the discovery connection; `b` and `c` wait in the
  // HTTP/1 pool. Once `a` is answered, its release hands the connection to
  // `b`, whose callback cancels `c`.
  b.on_ready = [&] { c.handle->cancel(); };
  ASSERT_TRUE(allServed({&a, &b}));
  spin();
  EXPECT_EQ(c.calls, 0);
  EXPECT_EQ(pendingSlots(), 0);
}

TEST_F(AutoConnPoolTest, ThePoolDestroyedWhileDiscoveryIsInFlightCallsNobody) {
  LoopbackPort silent(true);
  makePool(silent.address);
  Requester a, b;
  ask(a);
  ask(b);
  EXPECT_EQ(pendingSlots(), 2);
  EXPECT_EQ(shared_.breakers(RoutingPriority::Normal).connections.active(), 1);
  pool_.reset();
  spin();
  EXPECT_EQ(a.calls + b.calls, 0);
  EXPECT_EQ(pendingSlots(), 0);
  EXPECT_EQ(shared_.breakers(RoutingPriority::Normal).connections.active(), 0);
  EXPECT_EQ(connectFailures(), 0);
}

// The host first answers h2, then (a new server on the same address) only
// http/1.1. The HTTP/2 pool's next connection hears http/1.1: it worked, so
// it goes to the HTTP/1 pool with every request waiting in the HTTP/2 pool,
// and none of them fails or counts a connect failure.
TEST_F(AutoConnPoolTest, AHostThatChangesItsAnswerGetsTheWaitingRequestsOverTheOtherProtocol) {
  listen({"h2"});
  makePool(listenerAddress());
  Requester first;
  ask(first);
  ASSERT_TRUE(runUntil(loop_, [&] { return first.calls == 1; }));
  EXPECT_EQ(pool_->known(), Protocol::Http2);
  // The h2 server goes away: its connection closes under the stream.
  ASSERT_TRUE(runUntil(loop_, [&] { return !listener_->peers.empty() && listener_->peers[0]->handshake_done; }));
  answer({"http/1.1"});
  listener_->peers[0]->conn->close(net::CloseType::NoFlush);
  ASSERT_TRUE(runUntil(loop_, [&] { return first.reset.has_value(); }));
  spin(20ms);

  Requester a, b, c;
  ASSERT_NE(ask(a), nullptr);  // waits in the HTTP/2 pool, which connects
  ASSERT_NE(ask(b), nullptr);
  ASSERT_NE(ask(c), nullptr);
  ASSERT_TRUE(allServed({&a, &b, &c}));
  EXPECT_FALSE(a.failure);
  EXPECT_FALSE(b.failure);
  EXPECT_FALSE(c.failure);
  EXPECT_EQ(a.calls + b.calls + c.calls, 3);
  EXPECT_EQ(pool_->known(), Protocol::Http1);
  EXPECT_EQ(connectFailures(), 0);
  EXPECT_EQ(host_stats_.cx_connect_fail.value(), 0);
  // Discovery, the HTTP/2 pool's connection (counted once though it moved),
  // and one more for each request beyond the first.
  EXPECT_EQ(cluster_stats_.upstream_cx_total.value(), 4);
  EXPECT_EQ(pendingSlots(), 0);
}

}  // namespace
}  // namespace sluice::upstream
