// Upgrades (WebSocket) through the real binary: the Upgrade request reaches
// the upstream with its upgrade headers, the 101 reaches the client, and
// from then on bytes flow both ways untouched until either side closes.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const HeaderList kUpgradeHeaders = {{"Connection", "Upgrade"},
                                    {"Upgrade", "websocket"},
                                    {"Sec-WebSocket-Version", "13"},
                                    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};

class HttpWebSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(R"(
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
              - match: {prefix: /ws}
                route: {cluster: ws}
              - match: {prefix: /}
                route: {cluster: plain}
    )", {cluster("ws", {ws_.port()}), cluster("plain", {plain_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  HttpUpstream ws_{websocketEcho()};
  HttpUpstream plain_{describeRequest("plain")};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(HttpWebSocket, UpgradeThenBytesEchoBothWays) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip(getRequest("/ws/chat", "example.com", kUpgradeHeaders));
  ASSERT_EQ(r.status, 101) << r.describe();
  EXPECT_TRUE(r.header("upgrade") && equalsIgnoreCase(*r.header("upgrade"), "websocket")) << r.describe();
  EXPECT_TRUE(r.header("connection") && r.header("connection")->find("pgrade") != std::string::npos)
      << r.describe();

  auto seen = ws_.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/ws/chat");
  EXPECT_TRUE(seen->header("upgrade") && equalsIgnoreCase(*seen->header("upgrade"), "websocket")) << seen->describe();
  EXPECT_TRUE(seen->header("connection") &&
              seen->header("connection")->find("pgrade") != std::string::npos)
      << "the upstream must see Connection: upgrade: " << seen->describe();
  EXPECT_EQ(seen->header("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==") << seen->describe();

  ASSERT_TRUE(client.pending().empty()) << "bytes after the 101: '" << client.pending() << "'";
  // Raw bytes, including ones that look like HTTP, both ways.
  EXPECT_EQ(echoRoundTrip(client.fd(), "\x81\x05hello"), "");
  EXPECT_EQ(echoRoundTrip(client.fd(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "");
  EXPECT_EQ(echoRoundTrip(client.fd(), patternBytes(41, 512 * 1024), 10s), "");

  // The client's FIN reaches the upstream (its echo loop ends and it
  // closes), and the upstream's close reaches the client.
  client.shutdownWrite();
  EXPECT_TRUE(waitUntil([&] { return ws_.finishedConnections() == 1; }, 3s))
      << "the client's FIN never reached the upstream";
  EXPECT_TRUE(client.waitClosed(3s)) << "the upstream closed, the client's connection did not";
  EXPECT_EQ(ws_.requestCount(), 1u) << "upgraded bytes were parsed as HTTP requests";
  EXPECT_EQ(plain_.requestCount(), 0u);
}

TEST_F(HttpWebSocket, UpstreamCloseEndsTheTunnel) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip(getRequest("/ws/x", "example.com", kUpgradeHeaders));
  ASSERT_EQ(r.status, 101) << r.describe();
  EXPECT_EQ(echoRoundTrip(client.fd(), "ping"), "");
  ASSERT_TRUE(client.send("__close__"));  // the upstream closes its side
  EXPECT_TRUE(waitUntil([&] { return ws_.finishedConnections() == 1; }, 3s));
  EXPECT_TRUE(client.waitClosed(3s)) << "the upstream closed the tunnel, the client's connection stayed open";
}

TEST_F(HttpWebSocket, UpgradeDeclinedByTheUpstreamIsAPlainResponse) {
  // The plain upstream ignores the upgrade and answers 200. The client gets
  // that response whole; the proxy then ends the connection (an upgrade
  // request has no defined end, so nothing after it can be parsed) rather
  // than turning it into a tunnel.
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip(getRequest("/refuse", "example.com", kUpgradeHeaders));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.body, "plain GET /refuse\n") << r.describe();
  EXPECT_TRUE(client.waitClosed(2s)) << "a declined upgrade left the connection open (a tunnel?)";
  EXPECT_EQ(plain_.requestCount(), 1u);
  RawHttpClient other(port_);
  ASSERT_TRUE(other.connected());
  HttpReply next = other.roundTrip(getRequest("/next"));
  EXPECT_EQ(next.body, "plain GET /next\n") << next.describe();
}

TEST_F(HttpWebSocket, ManyUpgradedConnectionsAtOnce) {
  std::vector<std::unique_ptr<RawHttpClient>> clients;
  for (int i = 0; i < 8; ++i) {
    auto c = std::make_unique<RawHttpClient>(port_);
    ASSERT_TRUE(c->connected());
    HttpReply r = c->roundTrip(getRequest("/ws/" + std::to_string(i), "example.com", kUpgradeHeaders));
    ASSERT_EQ(r.status, 101) << r.describe();
    clients.push_back(std::move(c));
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(echoRoundTrip(clients[i]->fd(), "conn " + std::to_string(i)), "") << "connection " << i;
  }
  EXPECT_EQ(ws_.connections(), 8) << "each upgraded stream needs an upstream connection of its own";
}

}  // namespace
}  // namespace sluice::itest
