// tcp_proxy data path through the real binary: bulk bytes both ways,
// half-close in each direction, reset propagation, connection accounting.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMB = 1024 * 1024;

TEST(TcpProxyStream, HundredMegabytesEachWayConcurrentlyArriveIntact) {
  constexpr uint64_t kLen = 100 * kMB;
  constexpr uint64_t kClientSeed = 11, kUpstreamSeed = 22;
  auto log = std::make_shared<StreamLog>();
  TestServer upstream(streamHandler(log, kUpstreamSeed, kLen));
  ProxyProcess proxy(renderConfig(simpleConfig({upstream.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port) << "GET /listeners: " << proxy.get("/listeners").body;

  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  TransferResult down = transfer(client.get(), {.send_seed = kClientSeed, .send_len = kLen},
                                 Deadline(60s));

  EXPECT_TRUE(down.send_done && down.eof) << "client: " << down.describe();
  EXPECT_EQ(down.received, kLen) << "client: " << down.describe();
  EXPECT_EQ(down.received_checksum, patternChecksum(kUpstreamSeed, kLen))
      << "bytes from the upstream arrived corrupted or reordered";

  ASSERT_TRUE(waitUntil([&] { return log->results().size() == 1; }, 10s))
      << "upstream never finished its side";
  TransferResult up = log->results()[0];
  EXPECT_TRUE(up.send_done && up.eof) << "upstream: " << up.describe();
  EXPECT_EQ(up.received, kLen) << "upstream: " << up.describe();
  EXPECT_EQ(up.received_checksum, patternChecksum(kClientSeed, kLen))
      << "bytes from the client arrived corrupted or reordered";
  EXPECT_EQ(upstream.acceptedCount(), 1);

  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rx_bytes_total", {{"listener", "l1"}},
                                 static_cast<double>(kLen)));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_tx_bytes_total", {{"listener", "l1"}},
                                 static_cast<double>(kLen)));
}

TEST(TcpProxyStream, ClientHalfCloseStillDeliversUpstreamReply) {
  struct Seen {
    ReadToClose request;
  };
  auto seen = std::make_shared<Slot<Seen>>();
  // Reads the request to EOF, and only then answers.
  TestServer upstream([seen](Conn& c) {
    ReadToClose r = readUntilClosed(c.fd(), Deadline(5s));
    if (r.how == CloseKind::kEof) sendAll(c.fd(), "reply-after-eof", Deadline(5s));
    seen->set({r});
    c.close();
  });
  ProxyProcess proxy(renderConfig(simpleConfig({upstream.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  ASSERT_TRUE(sendAll(client.get(), "request-then-fin", Deadline(2s)));
  shutdownWrite(client.get());

  auto up = seen->wait(5s);
  ASSERT_TRUE(up) << "upstream did not see the client's FIN within 5 s";
  EXPECT_EQ(up->request.data, "request-then-fin");
  EXPECT_EQ(up->request.how, CloseKind::kEof) << closeKindName(up->request.how);

  ReadToClose reply = readUntilClosed(client.get(), Deadline(5s));
  EXPECT_EQ(reply.data, "reply-after-eof")
      << "the client's half-close must leave the upstream->client direction open";
  EXPECT_EQ(reply.how, CloseKind::kEof) << closeKindName(reply.how);
}

TEST(TcpProxyStream, UpstreamHalfCloseStillDeliversClientData) {
  auto seen = std::make_shared<Slot<ReadToClose>>();
  // Greets, half-closes, then keeps reading until the client's EOF.
  TestServer upstream([seen](Conn& c) {
    sendAll(c.fd(), "greeting-then-fin", Deadline(5s));
    c.shutdownWrite();
    seen->set(readUntilClosed(c.fd(), Deadline(5s)));
    c.close();
  });
  ProxyProcess proxy(renderConfig(simpleConfig({upstream.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  ReadToClose greeting = readUntilClosed(client.get(), Deadline(5s));
  EXPECT_EQ(greeting.data, "greeting-then-fin");
  ASSERT_EQ(greeting.how, CloseKind::kEof) << closeKindName(greeting.how);

  // Our read side is done; our write side must still reach the upstream.
  int err = 0;
  ASSERT_TRUE(sendAll(client.get(), "late-client-data", Deadline(2s), &err)) << std::strerror(err);
  shutdownWrite(client.get());

  auto up = seen->wait(5s);
  ASSERT_TRUE(up) << "upstream saw neither data nor EOF within 5 s";
  EXPECT_EQ(up->data, "late-client-data")
      << "the upstream's half-close must leave the client->upstream direction open";
  EXPECT_EQ(up->how, CloseKind::kEof) << closeKindName(up->how);
}

TEST(TcpProxyStream, UpstreamResetReachesClientAsReset) {
  auto got_ping = std::make_shared<Slot<bool>>();
  TestServer upstream([got_ping](Conn& c) {
    std::string ping = recvExactly(c.fd(), 4, Deadline(5s));
    got_ping->set(ping == "ping");
    c.reset();
  });
  ProxyProcess proxy(renderConfig(simpleConfig({upstream.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  ASSERT_TRUE(sendAll(client.get(), "ping", Deadline(2s)));
  auto ping = got_ping->wait(5s);
  ASSERT_TRUE(ping && *ping) << "upstream never got the ping";

  ReadToClose r = readUntilClosed(client.get(), Deadline(5s));
  EXPECT_EQ(r.how, CloseKind::kReset)
      << "upstream sent RST; the client saw " << closeKindName(r.how)
      << (r.err ? std::string(" (") + std::strerror(r.err) + ")" : "") << " after " << r.bytes
      << " bytes";
}

TEST(TcpProxyStream, ConnectionCountersTrackOpenAndClose) {
  TestServer echo(echoHandler());
  ProxyProcess proxy(renderConfig(simpleConfig({echo.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connectLoopback(*port));
    ASSERT_TRUE(clients.back());
    ASSERT_EQ(echoRoundTrip(clients.back().get(), "hello " + std::to_string(i)), "");
  }
  const Labels l1{{"listener", "l1"}}, c1{{"cluster", "c1"}};
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_active", l1, 3));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_total", l1, 3));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_active", c1, 3));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_total", c1, 3));

  clients.clear();
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_active", l1, 0));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_active", c1, 0));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_total", l1, 3));
}

}  // namespace
}  // namespace sluice::itest

namespace sluice::itest {
namespace {

// Connections their clients end first (a reset, while the upstream is
// still open) give their max_connections slot back: ten in a row through a
// cluster allowing three at a time all pass.
TEST(TcpProxyStream, ClientClosedConnectionsReleaseTheirBreakerSlot) {
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({echo.port()});
  spec.workers = 1;
  spec.clusters[0].extra_lines.push_back("circuit_breakers: {max_connections: 3}");
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  const Labels c1{{"cluster", "c1"}};
  for (int i = 0; i < 10; ++i) {
    {
      Fd client = connectLoopback(*port);
      ASSERT_TRUE(client) << "connection " << i;
      ASSERT_EQ(echoRoundTrip(client.get(), "hello " + std::to_string(i)), "") << "connection " << i;
      setLingerZero(client.get());
    }
    ASSERT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_active", c1, 0)) << "connection " << i;
  }
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_cx_overflow_total", c1), 0);
  EXPECT_EQ(echo.acceptedCount(), 10);
}

}  // namespace
}  // namespace sluice::itest
