// `protocol: auto` through the real binary: a TLS cluster offers h2 and
// http/1.1 by ALPN and speaks what the upstream picked. The upstreams are
// Node servers (support/protocol_server.js) that answer with the HTTP version
// each request arrived in: http2.createSecureServer with allowHTTP1 picks
// h2, an https server picks http/1.1. A plaintext auto cluster speaks
// HTTP/1.1.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

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
      tls: {sni: localhost, ca_bundle: )" + pkiPath("root.crt") + R"(}
      endpoints: )" + endpointsFlow({port});
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
  const CommandResult load = runCommand({"h2load", "-n", "60", "-c", "3", "-m", "10", localUrl(port, "/load")},
                                        Millis(30000));
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

  const CommandResult load = runCommand({"h2load", "-n", "40", "-c", "4", "-m", "5", localUrl(port, "/load")},
                                        Millis(30000));
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
// attempt fails as a connect failure, which the route retries, and the retry
// and every request after it go over HTTP/1.1.
TEST(UpstreamAutoProtocol, HostThatChangesItsAnswerIsFollowed) {
  ASSERT_TRUE(pki().ok());
  NodeUpstream h2 = tlsUpstream("h2");
  ASSERT_TRUE(h2.start());
  const uint16_t upstream_port = h2.port();
  const std::string http = R"(
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
              - match: {prefix: /}
                route: {cluster: up, retry_policy: {retry_on: [connect-failure], num_retries: 2}}
)";
  ProxyProcess proxy(upstreamConfig(http, autoTlsCluster(upstream_port), /*workers=*/1));
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
  EXPECT_GE(metricOr0(proxy, "sluice_cluster_upstream_cx_connect_fail_total", kUp), 1);
}

}  // namespace
}  // namespace sluice::itest
