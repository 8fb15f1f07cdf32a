// `protocol: auto` through the real binary: a TLS cluster offers h2 and
// http/1.1 by ALPN and speaks what the upstream picked. The upstreams are
// Node servers (support/protocol_server.js) that answer with the HTTP version
// each request arrived in: http2.createSecureServer with allowHTTP1 picks
// h2, an https server picks http/1.1. A plaintext auto cluster speaks
// HTTP/1.1.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/node_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

const Labels kUp{{"cluster", "up"}};

std::string autoTlsCluster(uint16_t port) {
  return R"(
    - name: up
      connect_timeout: 5s
      protocol: auto
      tls: {sni: localhost, ca_bundle: )" +
         pkiPath("root.crt") + R"(}
      endpoints: )" +
         endpointsFlow({port});
}

NodeUpstream tlsUpstream(const std::string& mode) {
  return NodeUpstream("protocol_server.js", {mode}, {pkiPath("server.crt"), pkiPath("server.key")});
}

// GET /counts straight from the upstream: the requests it saw, per HTTP version.
nlohmann::json upstreamCounts(uint16_t port) {
  const CurlResult r = curlTls(port, "/counts", "", {"--http1.1"});
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

TEST(UpstreamAutoProtocol, TlsUpstreamThatPicksH2GetsHttp2) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream up = tlsUpstream("h2");
  ASSERT_TRUE(up.start());
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), autoTlsCluster(up.port())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // The first requests wait for the host's answer, in parallel, over
  // HTTP/1.1 and HTTP/2 clients alike; none fails.
  const CommandResult load =
      runCommand({"h2load", "-n", "60", "-c", "3", "-m", "10", localUrl(port, "/load")}, Millis(30000));
  EXPECT_NE(load.out.find("60 succeeded, 0 failed"), std::string::npos) << load.out << load.err;
  for (int i = 0; i < 5; ++i) {
    const CurlResult r = curl({localUrl(port, "/one-" + std::to_string(i))});
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("x-protocol"), "2.0");
  }
  const nlohmann::json counts = upstreamCounts(up.port());
  EXPECT_EQ(counts["requests"].value("2.0", 0), 65) << counts.dump();
  EXPECT_EQ(counts["requests"].value("1.1", 0), 0) << counts.dump();
  // The connection that learned the answer serves it (one per worker at
  // most): no second handshake, and the rest multiplexed onto it.
  EXPECT_LE(metricOr0(proxy, "sluice_cluster_upstream_cx_total", kUp), 2);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_cx_connect_fail_total", kUp), 0);
}

TEST(UpstreamAutoProtocol, TlsUpstreamThatPicksHttp11GetsHttp11) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream up = tlsUpstream("h1");
  ASSERT_TRUE(up.start());
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), autoTlsCluster(up.port()), /*workers=*/1));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  const CommandResult load =
      runCommand({"h2load", "-n", "40", "-c", "4", "-m", "5", localUrl(port, "/load")}, Millis(30000));
  EXPECT_NE(load.out.find("40 succeeded, 0 failed"), std::string::npos) << load.out << load.err;
  for (int i = 0; i < 5; ++i) {
    const CurlResult r = curl({localUrl(port, "/one-" + std::to_string(i))});
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("x-protocol"), "1.1");
  }
  const nlohmann::json counts = upstreamCounts(up.port());
  EXPECT_EQ(counts["requests"].value("1.1", 0), 45) << counts.dump();
  EXPECT_EQ(counts["requests"].value("2.0", 0), 0) << counts.dump();
  // Sequential requests after the load reuse its keep-alive connections.
  EXPECT_GE(metricOr0(proxy, "sluice_cluster_upstream_cx_reused_total", kUp), 5);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_cx_connect_fail_total", kUp), 0);
}

// Without TLS there is no ALPN to ask: auto is HTTP/1.1, so an HTTP/1.1-only
// upstream answers (an HTTP/2 preface would be a 400).
TEST(UpstreamAutoProtocol, PlaintextAutoIsHttp11) {
  HttpUpstream up(echoBody());
  ClusterSpec c = cluster("c1", {up.port()});
  c.extra_lines = {"protocol: auto"};
  ProxyProcess proxy(renderConfig(httpConfig(routeAllTo("c1"), {c})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  for (int i = 0; i < 3; ++i) {
    const CurlResult r = curl({"--http2-prior-knowledge", localUrl(port, "/echo")});
    EXPECT_EQ(r.status, 200) << r.describe();
  }
}

// A host that is down fails the waiting requests as a connect failure would,
// and the next request asks again: once the host is up, it is served.
TEST(UpstreamAutoProtocol, HostDownDuringDiscoveryFailsLikeAConnectFailureThenRecovers) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream up = tlsUpstream("h2");
  ASSERT_TRUE(up.start());
  const uint16_t upstream_port = up.port();
  up.stop();
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), autoTlsCluster(upstream_port), /*workers=*/1));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const CurlResult down = curl({localUrl(port, "/while-down")});
  EXPECT_EQ(down.status, 503) << down.describe();
  EXPECT_GE(metricOr0(proxy, "sluice_cluster_upstream_cx_connect_fail_total", kUp), 1);

  ASSERT_TRUE(up.start());
  ASSERT_TRUE(waitUntil([&] { return curl({localUrl(port, "/back")}).status == 200; }, Millis(10000)));
  const CurlResult r = curl({localUrl(port, "/after")});
  EXPECT_EQ(r.header("x-protocol"), "2.0") << r.describe();
}

// The host's address is taken over by a server that speaks HTTP/1.1 only.
// The HTTP/2 pool's next connection learns it (h2 refused by ALPN): that
// connection worked, so it goes to the HTTP/1 pool with the request waiting
// for it. No request fails, though the route retries nothing, and no
// connect failure is counted.
TEST(UpstreamAutoProtocol, HostThatChangesItsAnswerIsFollowed) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream h2 = tlsUpstream("h2");
  ASSERT_TRUE(h2.start());
  const uint16_t upstream_port = h2.port();
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), autoTlsCluster(upstream_port), /*workers=*/1));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  CurlResult r = curl({localUrl(port, "/first")});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-protocol"), "2.0");

  h2.stop();
  NodeUpstream h1 = tlsUpstream("h1");
  h1.usePort(upstream_port);
  ASSERT_TRUE(h1.start());
  for (int i = 0; i < 3; ++i) {
    r = curl({localUrl(port, "/after-" + std::to_string(i))});
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("x-protocol"), "1.1");
  }
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_cx_connect_fail_total", kUp), 0);
}

// A reload that changes the cluster's TLS while a connection is still
// learning the host's answer: that connection (made under the old TLS) is
// closed and the answer learned again under the new one, for the requests
// already waiting. Here the first connection lands on a listener that never
// answers the handshake; before the reload a real server takes over the
// port, so only a new connection can serve the waiting request.
TEST(UpstreamAutoProtocol, TlsChangeWhileLearningTheAnswerLearnsItAgain) {
  ASSERT_TRUE(pki().ok());
  Fd silent = listenLoopback(8);
  // Inherited by the connection accepted from it, which stays open on the
  // port: without it, that connection keeps the next server off the port.
  const int reuse = 1;
  ASSERT_EQ(::setsockopt(silent.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse), 0);
  const uint16_t upstream_port = localPort(silent.get());
  ProxyProcess proxy(upstreamConfig(routeAllTo("up"), autoTlsCluster(upstream_port), /*workers=*/1));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  TempDir dir;
  const std::string out = dir.path() + "/first.out";
  const pid_t first = spawnCommand(
      {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", localUrl(port, "/waiting")}, out,
      dir.path() + "/first.err");
  ASSERT_GT(first, 0);
  // The proxy's discovery connection, stuck in its handshake.
  ASSERT_TRUE(waitUntil(
      [&] {
        pollfd p{silent.get(), POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
      },
      Millis(5000)));
  Fd stuck(::accept4(silent.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(stuck.valid());
  silent.reset();
  NodeUpstream h2 = tlsUpstream("h2");
  h2.usePort(upstream_port);
  ASSERT_TRUE(h2.start());

  // The same trust, from another file: a new TLS setup for the cluster.
  const std::string ca_copy = dir.write("root-copy.crt", readFile(pkiPath("root.crt")));
  std::string next = autoTlsCluster(upstream_port);
  next.replace(next.find(pkiPath("root.crt")), pkiPath("root.crt").size(), ca_copy);
  proxy.writeConfig(upstreamConfig(routeAllTo("up"), next, /*workers=*/1));
  const HttpResponse reload = proxy.post("/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;

  // The next request reaches the pool under the new setup, which drops the
  // stuck connection and learns the answer afresh: both are served by h2.
  const CurlResult second = curl({"--max-time", "10", localUrl(port, "/after-reload")});
  EXPECT_EQ(second.status, 200) << second.describe();
  EXPECT_EQ(second.header("x-protocol"), "2.0");
  ASSERT_TRUE(waitUntil([&] { return readFile(out).size() == 3; }, Millis(10000))) << readFile(out);
  EXPECT_EQ(readFile(out), "200");
  EXPECT_EQ(readUntilClosed(stuck.get(), Deadline(Millis(5000))).how, CloseKind::kEof);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_cx_connect_fail_total", kUp), 0);
}

}  // namespace
}  // namespace sluice::itest
