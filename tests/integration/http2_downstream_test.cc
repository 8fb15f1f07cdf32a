// HTTP/2 from clients to the proxy, through the real binary with real
// clients: curl (h2c prior knowledge, and h2 by ALPN over TLS), nghttp,
// h2load and Node's http2 module, to HTTP/1.1 upstreams. The `auto` codec
// still serves HTTP/1 on the same listener; bodies and trailers cross
// between the versions; many streams share a connection; a client's reset
// reaches the upstream; a listener drained under HTTP/2 load loses no
// request already sent.

#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/tls_setup.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = 1024 * 1024;
const Labels kWeb{{"listener", "web"}};

const std::string kClientJs = std::string(SLUICE_SOURCE_DIR) + "/tests/integration/support/h2_client.js";

nlohmann::json runNode(const std::vector<std::string>& args, Millis timeout = Millis(30000)) {
  std::vector<std::string> argv = {"node", kClientJs};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = runCommand(argv, timeout);
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) return {{"error", "no JSON from node: " + r.out + r.err}};
  return j;
}

// curl over h2c with prior knowledge; -w adds the HTTP version it used.
CurlResult curlH2c(uint16_t port, const std::string& path, std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(), "--http2-prior-knowledge");
  extra.push_back(localUrl(port, path));
  return curl(extra);
}

HttpUpstream::Handler mixedUpstream() {
  return byPathPrefix({{"/echo", echoBody()},
                       {"/trailers", chunkedWithTrailers({"hello ", "trailers"}, {{"x-checksum", "abc123"}})},
                       {"/big", hugeResponse(5, 64 * kMiB)},
                       {"/hang", neverAnswer()}},
                      describeRequest("c1"));
}

class Http2Downstream : public ::testing::Test {
 protected:
  void start(const std::string& http_extra = "") {
    proxy_ = std::make_unique<ProxyProcess>(
        renderConfig(httpConfig(http_extra + routeAllTo("c1"), {cluster("c1", {up_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  HttpUpstream up_{mixedUpstream(), UpstreamOptions{.keep_body_bytes = 8 * kMiB}};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(Http2Downstream, PriorKnowledgeRequestReachesTheHttp1Upstream) {
  start();
  CurlResult r = curlH2c(port_, "/h2?q=1", {"-H", "x-client: curl", "-H", "Cookie: a=1", "-H", "Cookie: b=2"});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_NE(r.headers_raw.find("HTTP/2 200"), std::string::npos) << r.headers_raw;
  auto seen = up_.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->version, "HTTP/1.1");
  EXPECT_EQ(seen->target, "/h2?q=1");
  EXPECT_EQ(seen->header("host"), "127.0.0.1:" + std::to_string(port_)) << ":authority becomes Host";
  EXPECT_EQ(seen->header("x-client"), "curl");
  // RFC 9113 8.2.3: curl sends each cookie as its own field; HTTP/1 wants one.
  EXPECT_EQ(seen->header("cookie"), "a=1; b=2") << seen->describe();
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_cx_http2_total", kWeb), 1);
}

TEST_F(Http2Downstream, AutoListenerStillServesHttp1) {
  start();
  CurlResult h1 = curl({"--http1.1", localUrl(port_, "/one")});
  ASSERT_EQ(h1.status, 200) << h1.describe();
  EXPECT_NE(h1.headers_raw.find("HTTP/1.1 200"), std::string::npos);
  CurlResult h2 = curlH2c(port_, "/two");
  ASSERT_EQ(h2.status, 200) << h2.describe();
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_cx_http1_total", kWeb), 1);
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_cx_http2_total", kWeb), 1);
}

TEST_F(Http2Downstream, Http1OnlyListenerRefusesThePreface) {
  start("codec: http1\n");
  CurlResult r = curlH2c(port_, "/x");
  EXPECT_NE(r.status, 200) << "an http1 listener must not speak HTTP/2: " << r.describe();
  EXPECT_EQ(curl({localUrl(port_, "/y")}).status, 200);
}

TEST_F(Http2Downstream, Http2OnlyListenerTakesPriorKnowledge) {
  start("codec: http2\n");
  EXPECT_EQ(curlH2c(port_, "/x").status, 200);
  CurlResult h1 = curl({"--http1.1", localUrl(port_, "/y")});
  EXPECT_NE(h1.status, 200) << "an http2 listener must not answer HTTP/1: " << h1.describe();
}

TEST_F(Http2Downstream, BodiesAndTrailersCrossVersionsBothWays) {
  start();
  // Request: DATA + trailers from Node, chunked + trailers to the HTTP/1 upstream, echoed back.
  const auto up = runNode({"upload", localUrl(port_, "/echo"), std::to_string(3 * kMiB + 11)});
  ASSERT_FALSE(up.contains("error")) << up.dump();
  EXPECT_EQ(up["status"], 200);
  EXPECT_EQ(up["body_bytes"], 3 * kMiB + 11);
  EXPECT_EQ(up["body_sha256"], up["sent_sha256"]);
  auto seen = up_.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->chunked) << seen->describe();
  EXPECT_EQ(findHeader(seen->trailers, "x-upload-trailer"), "done") << seen->describe();

  // Response: chunked with trailers from the upstream, DATA + trailing HEADERS to the client.
  const auto tr = runNode({"trailers", localUrl(port_, "/trailers")});
  ASSERT_FALSE(tr.contains("error")) << tr.dump();
  EXPECT_EQ(tr["status"], 200);
  EXPECT_EQ(tr["body"], "hello trailers");
  EXPECT_EQ(tr["trailers"]["x-checksum"], "abc123") << tr.dump();
  EXPECT_FALSE(tr["headers"].contains("transfer-encoding")) << "connection-specific field leaked: " << tr.dump();
}

TEST_F(Http2Downstream, ManyStreamsOnFewConnections) {
  start();
  ASSERT_TRUE(haveExecutable("h2load"));
  const CommandResult r =
      runCommand({"h2load", "-n", "4000", "-c", "2", "-m", "50", localUrl(port_, "/load")}, Millis(60000));
  ASSERT_NE(r.out.find("4000 succeeded, 0 failed, 0 errored"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_cx_http2_total", kWeb), 2);

  // nghttp: several requests at once on one connection, all answered.
  const CommandResult n = runCommand({"nghttp", "-n", "-s", localUrl(port_, "/a"), localUrl(port_, "/b"),
                                      localUrl(port_, "/c"), localUrl(port_, "/d")},
                                     Millis(20000));
  EXPECT_TRUE(exitedWith(n.status, 0)) << n.out << n.err;
  size_t answered = 0;
  for (size_t at = 0; (at = n.out.find(" 200 ", at)) != std::string::npos; ++at) ++answered;
  EXPECT_GE(answered, 4u) << n.out;
}

TEST_F(Http2Downstream, LargeDownloadStreamsWithBoundedMemory) {
  start();
  ASSERT_EQ(curlH2c(port_, "/warm-up").status, 200);
  const long baseline = proxy_->rssKb().value_or(0);
  ASSERT_GT(baseline, 0);
  RssSampler rss(*proxy_);
  const CommandResult r = runCommand({"curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                                      "%{http_code} %{size_download}", "--limit-rate", "200M", localUrl(port_, "/big")},
                                     Millis(60000));
  rss.stop();
  EXPECT_EQ(r.out, "200 " + std::to_string(64 * kMiB)) << r.err;
  // Growth, not the peak: sanitizer builds start far higher.
  const long growth = rss.peakKb() - baseline;
  EXPECT_LT(growth, 32 * 1024) << "proxy RSS grew by " << growth / 1024 << " MiB for a 64 MiB download";
}

TEST_F(Http2Downstream, ClientResetCancelsTheUpstreamRequest) {
  start();
  // curl gives up after 500 ms: its RST_STREAM (or close) must end the upstream exchange.
  CurlResult r = curlH2c(port_, "/hang", {"--max-time", "0.5"});
  EXPECT_NE(r.status, 200);
  ASSERT_TRUE(up_.waitForRequests(1, 2s));
  EXPECT_TRUE(waitUntil([&] { return up_.finishedConnections() >= 1; }, 3s))
      << "the upstream request outlived the client's stream";
}

TEST_F(Http2Downstream, LocalRepliesTravelAsHttp2Responses) {
  proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(R"(
    route_config:
      virtual_hosts:
        - name: only
          domains: ["only.example"]
          routes: [{match: {prefix: /}, route: {cluster: c1}}]
  )",
                                                                  {cluster("c1", {up_.port()})})));
  ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  CurlResult r = curlH2c(port_, "/nowhere");
  EXPECT_EQ(r.status, 404) << r.describe();
  EXPECT_NE(r.headers_raw.find("HTTP/2 404"), std::string::npos);
  // The connection survives a local reply: two requests, one connection.
  const CommandResult n =
      runCommand({"nghttp", "-n", "-s", localUrl(port_, "/a"), localUrl(port_, "/b")}, Millis(20000));
  EXPECT_TRUE(exitedWith(n.status, 0)) << n.out << n.err;
}

TEST_F(Http2Downstream, OversizedHeaderListIsRefusedAndTheConnectionLives) {
  start("max_request_headers_bytes: 4096\n");
  CurlResult r = curlH2c(port_, "/x", {"-H", "x-big: " + std::string(8000, 'a')});
  EXPECT_EQ(r.status, 431) << r.describe();
  EXPECT_GE(metricOr0(*proxy_, "sluice_listener_downstream_h2_header_overflow_total", kWeb), 1);
  EXPECT_EQ(curlH2c(port_, "/y").status, 200);
}

TEST(Http2Tls, AlpnChoosesTheCodecAndDefaultsToH2ThenHttp1) {
  HttpUpstream up(describeRequest("c1"));
  const std::string certs =
      "{certificates: [{cert_chain: " + pkiPath("server.crt") + ", private_key: " + pkiPath("server.key") + "}]}";
  ConfigSpec spec = httpConfig(routeAllTo("c1"), {cluster("c1", {up.port()})});
  spec.listeners[0].extra_lines.push_back("tls: " + certs);
  ProxyProcess proxy(renderConfig(spec));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  EXPECT_EQ(sClient(port, "localhost", "h2,http/1.1").alpn, "h2");
  EXPECT_EQ(sClient(port, "localhost", "http/1.1").alpn, "http/1.1");
  CurlResult h2 = curlTls(port, "/tls2", "", {"--http2"});
  EXPECT_EQ(h2.status, 200) << h2.describe();
  EXPECT_NE(h2.headers_raw.find("HTTP/2 200"), std::string::npos) << h2.headers_raw;
  CurlResult h1 = curlTls(port, "/tls1", "", {"--http1.1"});
  EXPECT_EQ(h1.status, 200) << h1.describe();
  EXPECT_NE(h1.headers_raw.find("HTTP/1.1 200"), std::string::npos) << h1.headers_raw;
  // s_client's connection sent no request: it counts as neither.
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_http2_total", kWeb), 1);
}

// A listener changed by a reload drains: HTTP/2 clients get the two-step
// GOAWAY, move to the new listener, and no request already sent is lost.
TEST(Http2Drain, ReplacedListenerUnderLoadCutsNoRequest) {
  HttpUpstream c1(describeRequest("c1"));
  ConfigSpec spec = httpConfig(routeAllTo("c1"), {cluster("c1", {c1.port()})});
  spec.drain_timeout = "3s";
  ProxyProcess proxy(renderConfig(spec));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const std::string url = localUrl(port, "/load");

  nlohmann::json result;
  std::thread load([&] { result = runNode({"load", url, "16", "4"}); });
  std::this_thread::sleep_for(1500ms);
  // Same port (SO_REUSEPORT), another buffer limit: a changed listener, which drains.
  spec.listeners[0].port = port;
  spec.listeners[0].buffer_limit_bytes = 512 * 1024;
  proxy.writeConfig(renderConfig(spec));
  const auto reload = proxy.post("/reload");
  EXPECT_EQ(reload.status, 200) << reload.body;
  load.join();

  ASSERT_FALSE(result.contains("error")) << result.dump();
  EXPECT_EQ(result["cut"], 0) << "requests cut by the drain: " << result.dump();
  // The new listener took the running sockets: no reconnect found the port shut.
  EXPECT_EQ(result["connect_failed"], 0) << result.dump();
  EXPECT_GT(result["ok"].get<int>(), 200) << result.dump();
  EXPECT_GE(result["goaways"].get<int>(), 1) << "the drained connection never said GOAWAY: " << result.dump();
  EXPECT_GE(result["sessions"].get<int>(), 2) << result.dump();
}

TEST(Http2Drain, SigtermUnderLoadCutsNoRequestAlreadySent) {
  HttpUpstream c1(describeRequest("c1"));
  ConfigSpec spec = httpConfig(routeAllTo("c1"), {cluster("c1", {c1.port()})});
  spec.drain_timeout = "3s";
  ProxyProcess proxy(renderConfig(spec));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  nlohmann::json result;
  std::thread load([&] { result = runNode({"load", localUrl(port, "/load"), "8", "3"}); });
  std::this_thread::sleep_for(1000ms);
  ASSERT_TRUE(proxy.signal(SIGTERM));
  auto status = proxy.waitExit(6s);
  load.join();
  ASSERT_TRUE(status) << "still running 6 s after SIGTERM";
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
  EXPECT_EQ(result["cut"], 0) << "requests cut by the shutdown: " << result.dump();
  EXPECT_GE(result["goaways"].get<int>(), 1) << result.dump();
}

}  // namespace
}  // namespace sluice::itest
