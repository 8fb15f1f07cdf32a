// HTTP message bodies through the real binary: Content-Length and chunked
// request bodies (with trailers) arrive intact, chunked responses keep their
// trailers, HEAD responses carry no body, HTTP/1.0 clients work,
// Expect: 100-continue is answered, and 1 GiB in either direction streams
// through with the proxy's memory bounded.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

const char* const kAllToC1 = R"(
  route_config:
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {prefix: /}
            route: {cluster: c1}
)";

// One upstream with a behaviour per path prefix, behind one proxy.
HttpUpstream::Handler mixedUpstream() {
  return byPathPrefix({{"/echo", echoBody()},
                       {"/chunked", chunkedWithTrailers({"hello ", "chunked ", "world"},
                                                        {{"x-trailer-checksum", "abc123"}, {"x-trailer-2", "two"}})}},
                      describeRequest("c1"));
}

class HttpBodies : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(kAllToC1, {cluster("c1", {up_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  HttpUpstream up_{mixedUpstream()};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
  TempDir files_;
};

TEST_F(HttpBodies, ContentLengthBodyArrivesIntact) {
  const std::string body = patternBytes(11, 300 * 1024 + 7);
  const std::string file = files_.write("body.bin", body);
  CurlResult r = curl({"--data-binary", "@" + file, localUrl(port_, "/echo")});
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(r.body == body) << "echoed body differs: " << r.body.size() << " bytes back";
  auto seen = up_.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->method, "POST");
  EXPECT_EQ(seen->body_bytes, body.size());
  EXPECT_EQ(seen->body_checksum, patternChecksum(11, body.size()));
  EXPECT_TRUE(seen->body_complete) << seen->describe();
}

TEST_F(HttpBodies, ChunkedRequestBodyAndTrailersArriveIntact) {
  const std::string body = patternBytes(12, 200 * 1024 + 3);
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  // Odd chunk sizes, sent in pieces that split chunk headers.
  const std::string wire = requestHead("POST", "/echo", "example.com",
                                       {{"Transfer-Encoding", "chunked"}, {"Trailer", "x-checksum"}}) +
                           chunkedBody(body, 7001, {{"x-checksum", "c0ffee"}});
  for (size_t pos = 0; pos < wire.size(); pos += 65521) {
    ASSERT_TRUE(client.send(std::string_view(wire).substr(pos, 65521)));
  }
  HttpReply r = client.read(10s);
  ASSERT_TRUE(r.complete) << r.describe() << "\nthe upstream received " << up_.bytesReceived() << " bytes; "
                          << (up_.lastRequest() ? up_.lastRequest()->describe() : "no complete request");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(r.body == body) << "echoed body differs: " << r.body_bytes << " bytes back";
  auto seen = up_.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->body_bytes, body.size()) << seen->describe();
  EXPECT_EQ(seen->body_checksum, patternChecksum(12, body.size()));
  EXPECT_TRUE(seen->chunked) << "request trailers need chunked framing upstream: " << seen->describe();
  EXPECT_EQ(findHeader(seen->trailers, "x-checksum"), "c0ffee")
      << "request trailers lost; upstream got " << describeHeaders(seen->trailers);

  // curl's own chunked upload.
  const std::string file = files_.write("chunked.bin", patternBytes(13, 50000));
  CurlResult c = curl({"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file, localUrl(port_, "/echo")});
  ASSERT_EQ(c.status, 200) << c.describe();
  EXPECT_EQ(c.body.size(), 50000u);
  EXPECT_EQ(up_.lastRequest()->body_checksum, patternChecksum(13, 50000));
}

TEST_F(HttpBodies, ChunkedResponseTrailersReachTheClient) {
  CurlResult r = curl({localUrl(port_, "/chunked")});
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "hello chunked world");
  // curl writes trailers into the -D output after the response head.
  size_t head_end = r.headers_raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << r.describe();
  const std::string after_head = r.headers_raw.substr(head_end + 4);
  EXPECT_NE(after_head.find("x-trailer-checksum: abc123"), std::string::npos)
      << "trailer missing; curl saw:\n" << r.headers_raw;
  EXPECT_NE(after_head.find("x-trailer-2: two"), std::string::npos) << r.headers_raw;

  // The same on the wire: still chunked, trailers after the last chunk.
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply h = client.roundTrip(getRequest("/chunked", "example.com", {{"TE", "trailers"}}));
  ASSERT_TRUE(h.complete) << h.describe();
  EXPECT_EQ(h.body, "hello chunked world");
  EXPECT_EQ(findHeader(h.trailers, "x-trailer-checksum"), "abc123") << describeHeaders(h.trailers);
  EXPECT_EQ(findHeader(h.trailers, "x-trailer-2"), "two") << describeHeaders(h.trailers);
}

TEST_F(HttpBodies, HeadResponseHasNoBody) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  ReadOptions head;
  head.head_request = true;
  HttpReply r = client.roundTrip(requestHead("HEAD", "/thing", "example.com"), 5s, head);
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "15") << "Content-Length of the GET body, 'c1 HEAD /thing\\n': "
                                              << r.describe();
  // Had the proxy sent body bytes, they would come before the next status line.
  HttpReply next = client.roundTrip(getRequest("/next"));
  EXPECT_TRUE(next.complete) << next.describe();
  EXPECT_EQ(next.body, "c1 GET /next\n") << next.describe();
  EXPECT_EQ(up_.requests().at(0).method, "HEAD");

  CurlResult c = curl({"-I", localUrl(port_, "/curl-head")}, 5s);
  EXPECT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.status, 200) << c.describe();
  EXPECT_LT(c.time_total, 2.0) << "curl waited for a body after HEAD";
}

TEST_F(HttpBodies, Http10ClientsAreServed) {
  CurlResult c = curl({"--http1.0", localUrl(port_, "/old-client")});
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.status, 200) << c.describe();
  EXPECT_EQ(c.body, "c1 GET /old-client\n");

  // A chunked upstream response must not reach an HTTP/1.0 client chunked.
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip(requestHead("GET", "/chunked", "example.com", {}, "HTTP/1.0"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_FALSE(r.header("transfer-encoding")) << "HTTP/1.0 has no chunked coding: " << r.describe();
  EXPECT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.body, "hello chunked world") << r.describe();
  // HTTP/1.0 without keep-alive: the connection ends after the response.
  EXPECT_TRUE(client.waitClosed(2s));
}

TEST_F(HttpBodies, ExpectContinueIsAnswered) {
  const std::string body = patternBytes(14, 2048);
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(requestHead("POST", "/echo", "example.com",
                                      {{"Content-Length", "2048"}, {"Expect", "100-continue"}})));
  ReadOptions interim;
  interim.stop_at_interim = true;
  HttpReply cont = client.read(2s, interim);
  ASSERT_EQ(cont.interim, std::vector<int>{100}) << "no 100 Continue before the body was sent: " << cont.describe();
  ASSERT_TRUE(client.send(body));
  HttpReply r = client.read(5s);
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(r.body == body);
  EXPECT_EQ(up_.lastRequest()->body_checksum, patternChecksum(14, 2048));

  // curl waits up to --expect100-timeout for the 100 before sending the body.
  const std::string file = files_.write("expect.bin", patternBytes(15, 5000));
  CurlResult c = curl({"-H", "Expect: 100-continue", "--expect100-timeout", "5", "--data-binary", "@" + file,
                       localUrl(port_, "/echo")});
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.status, 200) << c.describe();
  EXPECT_EQ(c.body.size(), 5000u);
  EXPECT_LT(c.time_total, 2.5) << "curl waited for a 100 Continue that never came";
  EXPECT_NE(c.headers_raw.find("100 Continue"), std::string::npos) << c.headers_raw;
  EXPECT_EQ(up_.lastRequest()->body_checksum, patternChecksum(15, 5000));
}

// ---- 1 GiB each way, memory bounded ----

constexpr long kRssBudgetKb = 64 * 1024;

TEST(HttpBodiesLarge, OneGigabyteUploadStreamsWithBoundedMemory) {
  UpstreamOptions opts;
  opts.keep_body_bytes = 0;
  opts.slow_body_read = 1000ms;  // the upstream pushes back for the first second
  HttpUpstream up(echoBody(), opts);
  ProxyProcess proxy(renderConfig(httpConfig(kAllToC1, {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  ASSERT_EQ(curl({localUrl(port, "/warm-up")}).status, 200);
  const long baseline = proxy.rssKb().value_or(0);
  ASSERT_GT(baseline, 0);
  RssSampler rss(proxy);

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(requestHead("POST", "/echo", "example.com", {{"Content-Length", std::to_string(kGiB)}})));
  PatternGen gen(21);
  Checksum sent;
  std::vector<char> buf(kMiB);
  Deadline deadline(60s);
  for (uint64_t left = kGiB; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    gen.fill(buf.data(), n);
    sent.update(buf.data(), n);
    int err = 0;
    ASSERT_TRUE(sendAll(client.fd(), buf.data(), n, deadline, &err))
        << "upload stalled after " << (kGiB - left) / kMiB << " MiB: " << std::strerror(err);
    left -= n;
  }
  HttpReply r = client.read(30s);
  rss.stop();
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-body-bytes"), std::to_string(kGiB)) << r.describe();
  EXPECT_EQ(r.header("x-body-checksum"), std::to_string(sent.value())) << "upload corrupted";
  const long growth = rss.peakKb() - baseline;
  EXPECT_LT(growth, kRssBudgetKb) << "proxy RSS grew by " << growth / 1024 << " MiB during a 1 GiB upload";
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_cluster_upstream_tx_bytes_total", {{"cluster", "c1"}},
                                      static_cast<double>(kGiB)));
}

TEST(HttpBodiesLarge, OneGigabyteDownloadStreamsWithBoundedMemory) {
  constexpr uint64_t kSeed = 22;
  HttpUpstream up(hugeResponse(kSeed, kGiB));
  ProxyProcess proxy(renderConfig(httpConfig(kAllToC1, {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  {
    RawHttpClient warm(port);
    ASSERT_TRUE(warm.connected());
    ReadOptions head;
    head.head_request = true;
    ASSERT_EQ(warm.roundTrip(requestHead("HEAD", "/", "example.com"), 5s, head).status, 200);
  }
  const long baseline = proxy.rssKb().value_or(0);
  ASSERT_GT(baseline, 0);
  RssSampler rss(proxy);

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(getRequest("/huge")));
  WireReader& in = client.reader();
  auto head = in.readUntil("\r\n\r\n", Deadline(5s), 64 * 1024);
  ASSERT_TRUE(head) << in.describeEnd();
  ASSERT_EQ(head->rfind("HTTP/1.1 200", 0), 0u) << *head;
  ASSERT_NE(head->find("Content-Length: " + std::to_string(kGiB)), std::string::npos) << *head;

  Checksum got;
  auto sink = [&](std::string_view piece) { got.update(piece.data(), piece.size()); };
  uint64_t received = 0;
  // A slow reader for the first second (~12 MB/s), then full speed.
  auto slow_until = Clock::now() + 1s;
  while (Clock::now() < slow_until) {
    uint64_t n = in.consume(64 * 1024, Deadline(5s), sink);
    received += n;
    ASSERT_EQ(n, 64u * 1024) << "download ended after " << received << " bytes: " << in.describeEnd();
    std::this_thread::sleep_for(5ms);
  }
  received += in.consume(kGiB - received, Deadline(60s), sink);
  rss.stop();
  ASSERT_EQ(received, kGiB) << in.describeEnd();
  EXPECT_EQ(got.value(), patternChecksum(kSeed, kGiB)) << "download corrupted";
  const long growth = rss.peakKb() - baseline;
  EXPECT_LT(growth, kRssBudgetKb) << "proxy RSS grew by " << growth / 1024 << " MiB during a 1 GiB download";
  // The connection is still good for another request.
  HttpReply next = client.roundTrip(requestHead("HEAD", "/again", "example.com"), 5s, ReadOptions{true});
  EXPECT_EQ(next.status, 200) << next.describe();
}

}  // namespace
}  // namespace sluice::itest
