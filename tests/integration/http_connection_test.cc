// HTTP/1.1 connection handling through the real binary: keep-alive,
// pipelining answered in order, upstream connection pooling (and not reusing
// what the upstream closed), Connection: close and the keep-alive idle
// timeout on the client side, hop-by-hop fields (Connection and the fields it
// names) stopping at the proxy in both directions, and a wrk smoke run.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

std::string allToC1(const std::string& extra = "") {
  return extra + R"(
route_config:
  virtual_hosts:
    - name: all
      domains: ["*"]
      routes:
        - match: {prefix: /}
          route: {cluster: c1}
)";
}

TEST(HttpConnection, PipelinedRequestsAreAnsweredInOrder) {
  HttpUpstream c1(byPathPrefix({{"/slow", slowResponse(150ms, "slow\n")}, {"/echo", echoBody()}},
                               describeRequest("c1")));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  // Six requests in one send(); the second is slow, so answering in arrival
  // order of upstream responses instead of request order would show.
  const std::string batch = getRequest("/p1") + getRequest("/slow") +
                            requestHead("POST", "/echo", "example.com", {{"Content-Length", "5"}}) + "hello" +
                            requestHead("POST", "/echo", "example.com", {{"Transfer-Encoding", "chunked"}}) +
                            chunkedBody("chunked-body", 5) + requestHead("HEAD", "/p5", "example.com") +
                            getRequest("/p6");
  ASSERT_TRUE(client.send(batch));
  struct Want {
    std::string body;
    bool head = false;
  };
  const std::vector<Want> want = {{"c1 GET /p1\n"}, {"slow\n"}, {"hello"}, {"chunked-body"}, {"", true},
                                  {"c1 GET /p6\n"}};
  for (size_t i = 0; i < want.size(); ++i) {
    ReadOptions opts;
    opts.head_request = want[i].head;
    HttpReply r = client.read(5s, opts);
    ASSERT_TRUE(r.complete) << "response " << i << ": " << r.describe();
    EXPECT_EQ(r.status, 200) << "response " << i << ": " << r.describe();
    EXPECT_EQ(r.body, want[i].body) << "response " << i << ": " << r.describe();
    if (want[i].head) {
      EXPECT_EQ(r.header("content-length"), "12") << "HEAD keeps the GET's Content-Length: " << r.describe();
    }
  }
  // Nothing stray after the last response, and the connection is still usable.
  EXPECT_EQ(client.pending(), "");
  HttpReply again = client.roundTrip(getRequest("/after"));
  EXPECT_EQ(again.body, "c1 GET /after\n") << again.describe();

  std::multiset<std::string> targets;
  for (const auto& r : c1.requests()) targets.insert(r.method + " " + r.target);
  EXPECT_EQ(targets, (std::multiset<std::string>{"GET /p1", "GET /slow", "POST /echo", "POST /echo", "HEAD /p5",
                                                 "GET /p6", "GET /after"}));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_total", {{"listener", "web"}}, 7));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_2xx_total", {{"listener", "web"}}, 7));
}

// The client sends its requests and its FIN together; the first is answered
// by the proxy itself (no route) while the rest are still unread. Every
// request is still answered, in order, before the proxy closes.
TEST(HttpConnection, RequestsBeforeTheClientsFinAreAllAnswered) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(R"(
route_config:
  virtual_hosts:
    - name: all
      domains: ["*"]
      routes:
        - match: {prefix: /ok}
          route: {cluster: c1}
)",
                                             {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  for (int round = 0; round < 20; ++round) {
    RawHttpClient client(port);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send(getRequest("/nope") + getRequest("/ok/1") + getRequest("/nope") + getRequest("/ok/2")));
    client.shutdownWrite();
    const std::vector<int> want = {404, 200, 404, 200};
    for (size_t i = 0; i < want.size(); ++i) {
      HttpReply r = client.read(5s);
      ASSERT_TRUE(r.complete) << "round " << round << ", response " << i << ": " << r.describe();
      EXPECT_EQ(r.status, want[i]) << "round " << round << ", response " << i << ": " << r.describe();
    }
    EXPECT_TRUE(client.waitClosed(5s)) << "round " << round;
  }
}

TEST(HttpConnection, KeepAliveReusesPooledUpstreamConnections) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const Labels kC1{{"cluster", "c1"}};

  constexpr int kSequential = 50;
  {
    RawHttpClient client(port);
    ASSERT_TRUE(client.connected());
    for (int i = 0; i < kSequential; ++i) {
      const std::string path = "/seq/" + std::to_string(i);
      HttpReply r = client.roundTrip(getRequest(path));
      ASSERT_TRUE(r.complete) << r.describe();
      ASSERT_EQ(r.body, "c1 GET " + path + "\n") << r.describe();
    }
  }
  // One client connection lives on one worker, whose pool needs one upstream connection.
  EXPECT_EQ(c1.connections(), 1);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_total", kC1, kSequential));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_total", kC1, 1));
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_cluster_upstream_cx_reused_total", kC1, kSequential - 1));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_total", {{"listener", "web"}}, 1));

  // New client connections, one request each: the pools (one per worker)
  // keep serving them from the connections they already hold.
  constexpr int kConnections = 10;
  for (int i = 0; i < kConnections; ++i) {
    RawHttpClient client(port);
    ASSERT_TRUE(client.connected());
    HttpReply r = client.roundTrip(getRequest("/new/" + std::to_string(i)));
    ASSERT_TRUE(r.complete && r.status == 200) << r.describe();
  }
  EXPECT_LE(c1.connections(), 2) << "more upstream connections than workers for sequential requests";
  const double cx_total = metricOr0(proxy, "sluice_cluster_upstream_cx_total", kC1);
  EXPECT_LE(cx_total, 2);
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_cluster_upstream_cx_reused_total", kC1,
                                      kSequential + kConnections - cx_total));
  std::set<int> upstream_conns;
  for (const auto& r : c1.requests()) upstream_conns.insert(r.connection);
  EXPECT_EQ(upstream_conns.size(), static_cast<size_t>(c1.connections()));
}

TEST(HttpConnection, UpstreamConnectionCloseIsHonouredAndNotReused) {
  HttpUpstream c1(connectionClose("bye\n"));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // All on one client connection: the upstream's Connection: close is about
  // the upstream hop and must not end the client's connection.
  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    HttpReply r = client.roundTrip(getRequest("/c/" + std::to_string(i)));
    ASSERT_TRUE(r.complete) << "request " << i << ": " << r.describe();
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "bye\n") << r.describe();
  }
  EXPECT_EQ(c1.connections(), 3) << "a connection the upstream closed was reused";
  EXPECT_EQ(c1.requestCount(), 3u);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_total", {{"cluster", "c1"}}, 3));
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_reset_total", {{"cluster", "c1"}}), 0);
}

TEST(HttpConnection, ClientConnectionCloseEndsTheConnectionAfterTheResponse) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip(getRequest("/bye", "example.com", {{"Connection", "close"}}));
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.body, "c1 GET /bye\n");
  std::string extra;
  EXPECT_TRUE(client.waitClosed(2s, &extra)) << "still open after Connection: close; extra bytes: '" << extra << "'";
}

TEST(HttpConnection, HopByHopFieldsStopAtTheProxyInBothDirections) {
  // The upstream's response carries its own hop-by-hop fields, one of them
  // named only by its Connection field.
  HttpUpstream c1([](const UpstreamRequest& req, UpstreamExchange& ex) {
    ex.respond(200, "c1 " + req.target + "\n",
               {{"Connection", "X-Up"}, {"X-Up", "upstream-private"}, {"Keep-Alive", "timeout=5, max=100"},
                {"Proxy-Connection", "keep-alive"}, {"Upgrade", "h2c"}, {"X-Kept-Resp", "1"}});
  });
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const char* const kNeverForwarded[] = {"connection", "keep-alive", "proxy-connection", "upgrade"};

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  // Upgrade without "upgrade" in Connection is not an upgrade, just a field to drop.
  HttpReply r = client.roundTrip(requestHead("POST", "/hop", "example.com",
                                             {{"Connection", "keep-alive, X-Private"},
                                              {"X-Private", "secret"},
                                              {"Keep-Alive", "timeout=5"},
                                              {"Proxy-Connection", "keep-alive"},
                                              {"TE", "trailers, deflate"},
                                              {"Upgrade", "h2c"},
                                              {"X-Kept", "1"},
                                              {"Content-Length", "2"}}) +
                                 "hi");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "c1 /hop\n") << r.describe();
  for (const char* name : {"connection", "keep-alive", "proxy-connection", "upgrade", "x-up"}) {
    EXPECT_FALSE(r.header(name)) << name << " reached the client: " << r.describe();
  }
  EXPECT_EQ(r.header("x-kept-resp"), "1") << r.describe();

  // The next request on the same connection ends it, and names another field.
  HttpReply last = client.roundTrip(getRequest(
      "/hop2", "example.com", {{"Connection", "close, X-Private2"}, {"X-Private2", "secret2"}, {"TE", "deflate"}}));
  ASSERT_TRUE(last.complete) << last.describe();
  EXPECT_EQ(last.body, "c1 /hop2\n") << last.describe();
  EXPECT_EQ(last.header("connection"), "close") << last.describe();
  EXPECT_FALSE(last.header("x-up")) << last.describe();
  EXPECT_TRUE(client.waitClosed(2s)) << "Connection: close from the client did not end its connection";

  const auto seen = c1.requests();
  ASSERT_EQ(seen.size(), 2u);
  const UpstreamRequest& first = seen[0];
  for (const char* name : kNeverForwarded) EXPECT_FALSE(first.header(name)) << name << ": " << first.describe();
  EXPECT_FALSE(first.header("x-private")) << "a field named by Connection went on: " << first.describe();
  // Only "trailers" may travel on in TE; the codings are for this hop.
  EXPECT_EQ(countHeader(first.headers, "te"), 1u) << first.describe();
  EXPECT_EQ(first.header("te"), "trailers") << first.describe();
  EXPECT_EQ(first.header("x-kept"), "1") << first.describe();
  EXPECT_EQ(first.body, "hi") << first.describe();
  const UpstreamRequest& second = seen[1];
  for (const char* name : kNeverForwarded) EXPECT_FALSE(second.header(name)) << name << ": " << second.describe();
  EXPECT_FALSE(second.header("x-private2")) << second.describe();
  EXPECT_FALSE(second.header("te")) << "TE without trailers is dropped: " << second.describe();
  // The client's close was about its own hop: the upstream connection stays pooled.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(c1.connections(), 1);
  EXPECT_EQ(c1.finishedConnections(), 0) << "the client's Connection: close reached the upstream";
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_cx_active", {{"cluster", "c1"}}, 1));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_2xx_total", {{"listener", "web"}}, 2));
}

TEST(HttpConnection, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1("idle_timeout: 300ms\n"), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip(getRequest("/once"));
  ASSERT_TRUE(r.complete) << r.describe();
  auto idle_since = Clock::now();
  // Still open well before the timeout...
  std::this_thread::sleep_for(100ms);
  r = client.roundTrip(getRequest("/twice"));
  ASSERT_TRUE(r.complete) << "closed before idle_timeout: " << r.describe();
  idle_since = Clock::now();
  // ...and closed once idle for 300 ms.
  EXPECT_TRUE(client.waitClosed(3s)) << "not closed by the 300 ms idle timeout";
  EXPECT_GE(msSince(idle_since), 250);
}

TEST(HttpConnection, ConcurrentKeepAliveClientsGetWholeResponses) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // 16 keep-alive clients as fast as they can for 1.5 s (what wrk does, but
  // every response is checked: whole, the right one, and the connection kept).
  constexpr int kClients = 16;
  std::atomic<int> requests{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  const auto until = Clock::now() + 1500ms;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      RawHttpClient client(port);
      if (!client.connected()) {
        failures[t] = "connect failed";
        return;
      }
      for (int n = 0; Clock::now() < until; ++n) {
        const std::string path = "/k/" + std::to_string(t) + "/" + std::to_string(n);
        HttpReply r = client.roundTrip(getRequest(path));
        ++requests;
        if (!r.complete || r.status != 200 || r.body != "c1 GET " + path + "\n" || r.header("connection")) {
          failures[t] = "request " + std::to_string(n) + " on client " + std::to_string(t) + ": " + r.describe();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  EXPECT_GT(requests.load(), 1000);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_total", {{"listener", "web"}}, kClients));
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_rq_5xx_total", {{"listener", "web"}}), 0);
}

TEST(HttpConnection, WrkSmokeHasNoErrors) {
  if (!haveExecutable("wrk")) GTEST_SKIP() << "wrk is not installed";
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(allToC1(), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  WrkResult w = wrk({"-t1", "-c16", "-d2s", localUrl(port, "/wrk")}, 15s);
  ASSERT_TRUE(w.parsed) << w.output();
  EXPECT_GT(w.requests, 100u) << w.output();
  EXPECT_EQ(w.non_2xx_3xx, 0u) << w.output();
  EXPECT_EQ(w.connect_errors + w.read_errors + w.write_errors + w.timeouts, 0u) << w.output();
  // The proxy agrees: no 4xx/5xx, and its 2xx count covers what wrk counted.
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_rq_4xx_total", {{"listener", "web"}}), 0);
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_rq_5xx_total", {{"listener", "web"}}), 0);
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_listener_downstream_rq_2xx_total", {{"listener", "web"}},
                                      static_cast<double>(w.requests)));
  EXPECT_TRUE(proxy.running());
  // Still serving afterwards.
  CurlResult r = curl({localUrl(port, "/after")});
  EXPECT_EQ(r.status, 200) << r.describe();
}

}  // namespace
}  // namespace sluice::itest
