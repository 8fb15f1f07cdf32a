// Request strictness through the real binary, with raw sockets: every
// ambiguous or malformed request (framing conflicts that enable request
// smuggling, illegal bytes in the header block, over-limit sizes, headers
// that never finish, request-targets in no valid form, invalid Host values,
// HTTP versions other than 1.x) is answered by the proxy itself with the
// right status, the connection is closed, and the upstream receives not one
// byte. Several slowloris connections at once each get their 408 on time
// while a normal client on another connection is served.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
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

const char* const kStrictYaml = R"(
  request_headers_timeout: 300ms
  max_request_headers_bytes: 61440
  max_uri_bytes: 8192
  max_headers_count: 100
  max_request_body_mib: 1
  route_config:
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {prefix: /}
            route: {cluster: c1}
)";

const Labels kWeb{{"listener", "web"}};

class HttpStrictnessBase : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(kStrictYaml, {cluster("c1", {up_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  // The upstream got nothing; checked after a pause so that bytes the proxy
  // might still be forwarding would have arrived.
  void expectUpstreamSawNothing() {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(up_.bytesReceived(), 0u) << "the upstream received a request: "
                                       << (up_.lastRequest() ? up_.lastRequest()->describe() : "(incomplete head)");
    EXPECT_EQ(up_.requestCount(), 0u);
  }
  HttpUpstream up_{describeRequest("c1")};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

struct StrictCase {
  const char* name;
  std::string request;
  int status;
};
void PrintTo(const StrictCase& c, std::ostream* os) { *os << c.name; }

std::string withHost(const std::string& request_line, const std::string& fields) {
  return request_line + "\r\nHost: example.com\r\n" + fields + "\r\n";
}

std::vector<StrictCase> strictCases() {
  std::string many_headers;
  for (int i = 0; i < 101; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  return {
      {"ContentLengthAndTransferEncoding",
       withHost("POST / HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n", 400},
      {"ContentLengthAndTransferEncodingSmuggle",
       withHost("POST / HTTP/1.1", "Content-Length: 35\r\nTransfer-Encoding: chunked\r\n") +
           "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
       400},
      {"DifferingContentLengths", withHost("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n") + "hello!",
       400},
      {"DifferingContentLengthList", withHost("POST / HTTP/1.1", "Content-Length: 5, 6\r\n") + "hello!", 400},
      {"InvalidContentLength", withHost("POST / HTTP/1.1", "Content-Length: +5\r\n") + "hello", 400},
      // RFC 9112 6.1: HTTP/1.0 framing cannot carry Transfer-Encoding. A
      // keep-alive 1.0 client, so a lenient proxy would go on to the pipelined request.
      {"TransferEncodingInHttp10",
       withHost("POST / HTTP/1.0", "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n") +
           "5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
       400},
      {"TransferEncodingGzip", withHost("POST / HTTP/1.1", "Transfer-Encoding: gzip\r\n") + "hello", 400},
      {"TransferEncodingChunkedNotLast", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked, gzip\r\n") + "hello",
       400},
      {"InvalidChunkSize", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "zz\r\nhello\r\n0\r\n\r\n",
       400},
      {"ObsFold", withHost("GET / HTTP/1.1", "X-Folded: a\r\n  b\r\n"), 400},
      {"BareLfInHeaderBlock", "GET / HTTP/1.1\r\nHost: example.com\nX-A: b\r\n\r\n", 400},
      {"BareCrInHeaderValue", withHost("GET / HTTP/1.1", "X-A: b\rc\r\n"), 400},
      {"NulInHeaderValue", withHost("GET / HTTP/1.1", std::string("X-A: b\0c\r\n", 10)), 400},
      {"InvalidMethodChars", withHost("G{T / HTTP/1.1", ""), 400},
      {"InvalidHeaderNameChars", withHost("GET / HTTP/1.1", "X[Bad]: v\r\n"), 400},
      {"SpaceBeforeColon", withHost("GET / HTTP/1.1", "X-Foo : v\r\n"), 400},
      {"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400},
      {"DuplicateHost", withHost("GET / HTTP/1.1", "Host: other.example.com\r\n"), 400},
      {"HeadersOverByteLimit", withHost("GET / HTTP/1.1", "X-Big: " + std::string(70000, 'a') + "\r\n"), 431},
      {"HeadersOverCountLimit", withHost("GET / HTTP/1.1", many_headers), 431},
      {"UriOverLimit", withHost("GET /" + std::string(9000, 'u') + " HTTP/1.1", ""), 414},
      {"BodyOverLimit", withHost("POST / HTTP/1.1", "Content-Length: " + std::to_string(2 << 20) + "\r\n"), 413},
      // RFC 9112 3.2: a request-target in no valid form. Each is followed by a
      // request that a lenient parser would go on to: nothing after the bad
      // line may be read as a request.
      {"AbsoluteFormUserinfo", withHost("GET http://user@example.com/ HTTP/1.1", "") + getRequest("/smuggled"), 400},
      {"AbsoluteFormEmptyAuthority", withHost("GET http:///x HTTP/1.1", "") + getRequest("/smuggled"), 400},
      {"AbsoluteFormOtherScheme", withHost("GET ftp://example.com/x HTTP/1.1", "") + getRequest("/smuggled"), 400},
      {"AbsoluteFormBadPort", withHost("GET http://example.com:99999/ HTTP/1.1", ""), 400},
      {"TargetWithFragment", withHost("GET /a#frag HTTP/1.1", "") + getRequest("/smuggled"), 400},
      {"TargetNonAscii", withHost("GET /caf\xC3\xA9 HTTP/1.1", ""), 400},
      {"TargetControlByte", withHost("GET /a\x01" "b HTTP/1.1", ""), 400},
      {"TargetRelative", withHost("GET admin HTTP/1.1", ""), 400},
      {"AsteriskFormWithGet", withHost("GET * HTTP/1.1", "") + getRequest("/smuggled"), 400},
      {"AuthorityFormWithGet", withHost("GET example.com:80 HTTP/1.1", ""), 400},
      {"ConnectOriginForm", withHost("CONNECT / HTTP/1.1", ""), 400},
      // RFC 9110 9.3.6: a valid CONNECT; tunnels are not built, and the
      // bytes after it (the tunnel's, for the client) are never parsed.
      {"Connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + getRequest("/smuggled"),
       501},
      // RFC 9112 3.2, RFC 3986 3.2.2/3.2.3: Host = uri-host [":" port].
      {"HostWithSpace", "GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", 400},
      {"HostUserinfo", "GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", 400},
      {"HostList", "GET / HTTP/1.1\r\nHost: example.com, evil.com\r\n\r\n", 400},
      {"HostBadPort", "GET / HTTP/1.1\r\nHost: example.com:8o\r\n\r\n", 400},
      {"HostPortOverflow", "GET / HTTP/1.1\r\nHost: example.com:4294967376\r\n\r\n", 400},
      {"HostBadIpv6", "GET / HTTP/1.1\r\nHost: [::1:80\r\n\r\n", 400},
      {"HostWithPath", "GET / HTTP/1.1\r\nHost: example.com/admin\r\n\r\n", 400},
      {"HostEmpty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
      {"HostEmptyWithAbsoluteForm", "GET http://example.com/ HTTP/1.1\r\nHost:\r\n\r\n", 400},
      {"HostInvalidBesideAbsoluteForm", "GET http://example.com/ HTTP/1.1\r\nHost: a@b\r\n\r\n", 400},
      {"MissingHostWithAbsoluteForm", "GET http://example.com/ HTTP/1.1\r\n\r\n", 400},
      {"DuplicateHostWithAbsoluteForm", withHost("GET http://example.com/ HTTP/1.1", "Host: example.com\r\n"), 400},
      // RFC 9110 2.5, RFC 9112 2.3: versions.
      {"Http20OnHttp1", withHost("GET / HTTP/2.0", "") + getRequest("/smuggled"), 505},
      {"Http30", withHost("GET / HTTP/3.0", ""), 505},
      {"Http09WithVersion", withHost("GET / HTTP/0.9", ""), 505},
      {"H2cPrefaceOnHttp1", "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + getRequest("/smuggled"), 505},
      {"Http09RequestLine", "GET /\r\n\r\n", 400},
      {"LowercaseVersion", withHost("GET / http/1.1", ""), 400},
      {"TwoDigitMinor", withHost("GET / HTTP/1.10", ""), 400},
      {"Http12WithoutHost", "GET / HTTP/1.2\r\n\r\n", 400},
  };
}

class HttpStrictness : public HttpStrictnessBase, public ::testing::WithParamInterface<StrictCase> {};

TEST_P(HttpStrictness, RejectedWithoutReachingTheUpstream) {
  const StrictCase& c = GetParam();
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(c.request));
  HttpReply r = client.read(3s);
  EXPECT_EQ(r.status, c.status) << r.describe();
  if (c.status == 505) {
    EXPECT_EQ(r.reason, "HTTP Version Not Supported") << r.describe();
  }
  EXPECT_TRUE(r.complete) << "the error response must be complete: " << r.describe();
  std::string extra;
  EXPECT_TRUE(client.waitClosed(2s, &extra))
      << "the connection must close after a rejected request; got more: '" << extra.substr(0, 200) << "'";
  expectUpstreamSawNothing();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_rq_protocol_error_total", kWeb, 1));
  EXPECT_TRUE(proxy_->waitMetricAtLeast(
      c.status < 500 ? "sluice_listener_downstream_rq_4xx_total" : "sluice_listener_downstream_rq_5xx_total", kWeb, 1));
  EXPECT_TRUE(proxy_->running());
}

INSTANTIATE_TEST_SUITE_P(Malformed, HttpStrictness, ::testing::ValuesIn(strictCases()),
                         [](const ::testing::TestParamInfo<StrictCase>& info) { return info.param.name; });

using HttpStrictnessMisc = HttpStrictnessBase;

TEST_F(HttpStrictnessMisc, IncompleteHeadersGet408) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  auto start = Clock::now();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: example.com\r\nX-Partial: "));
  HttpReply r = client.read(3s);
  const long long elapsed = msSince(start);
  EXPECT_EQ(r.status, 408) << r.describe();
  EXPECT_GE(elapsed, 250) << "408 before request_headers_timeout (300 ms)";
  EXPECT_LE(elapsed, 2000);
  EXPECT_TRUE(client.waitClosed(2s));
  expectUpstreamSawNothing();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_rq_timeout_total", kWeb, 1));
}

TEST_F(HttpStrictnessMisc, TrickledHeadersDoNotExtendTheTimeout) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  // One byte every 20 ms: each read is recent, but the head as a whole is late.
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    const std::string head = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Slow: " + std::string(200, 's');
    for (char ch : head) {
      if (stop.load() || !sendAll(client.fd(), std::string_view(&ch, 1), Deadline(1s))) return;
      std::this_thread::sleep_for(20ms);
    }
  });
  auto start = Clock::now();
  HttpReply r = client.read(4s);
  const long long elapsed = msSince(start);
  stop = true;
  trickle.join();
  EXPECT_EQ(r.status, 408) << r.describe();
  EXPECT_LE(elapsed, 1500) << "a trickling client kept the request open past request_headers_timeout";
  expectUpstreamSawNothing();
}

TEST_F(HttpStrictnessMisc, SlowlorisConnectionsEachGet408WhileANormalClientIsServed) {
  // Four connections trickle a header byte every 100 ms; the first has
  // already had a whole request answered, so the timeout must hold for a
  // keep-alive connection's next request too, not only for its first.
  constexpr int kSlow = 4;
  std::vector<std::unique_ptr<RawHttpClient>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawHttpClient>(port_));
    ASSERT_TRUE(slow.back()->connected());
  }
  HttpReply before = slow[0]->roundTrip(getRequest("/before"));
  ASSERT_TRUE(before.complete && before.status == 200) << before.describe();

  struct Outcome {
    HttpReply reply;
    long long first_byte_to_reply_ms = -1;  // -1: no reply while trickling (3 s)
    bool closed = false;
  };
  RawHttpClient normal(port_);
  ASSERT_TRUE(normal.connected());
  std::vector<Outcome> outcomes(kSlow);
  std::vector<std::thread> tricklers;
  for (int i = 0; i < kSlow; ++i) {
    tricklers.emplace_back([&, i] {
      RawHttpClient& c = *slow[i];
      // Longer than 3 s of trickling, so the head never completes.
      const std::string head = "GET /slow HTTP/1.1\r\nHost: example.com\r\nX-Slow: " + std::string(100, 's');
      const auto first_byte = Clock::now();
      for (size_t n = 0; n < head.size() && msSince(first_byte) < 3000; ++n) {
        if (!sendAll(c.fd(), std::string_view(&head[n], 1), Deadline(1s))) break;
        // Waiting for the next byte's turn doubles as watching for the reply.
        if (c.reader().fill(Deadline(100ms)) >= 0) {
          outcomes[i].first_byte_to_reply_ms = msSince(first_byte);
          break;
        }
      }
      outcomes[i].reply = c.read(2s);
      outcomes[i].closed = c.waitClosed(2s);
    });
  }
  // Meanwhile a normal client is served on its own connection, promptly.
  const auto start = Clock::now();
  int served = 0;
  for (int n = 0; msSince(start) < 250 && n < 200; ++n) {
    const auto sent = Clock::now();
    HttpReply r = normal.roundTrip(getRequest("/normal/" + std::to_string(n)), 2s);
    if (!r.complete || r.status != 200) {
      ADD_FAILURE() << "normal request " << n << ": " << r.describe();
      break;
    }
    EXPECT_LT(msSince(sent), 200) << "normal request " << n << " waited on the trickling connections";
    ++served;
  }
  for (auto& t : tricklers) t.join();
  EXPECT_GE(served, 3);

  for (int i = 0; i < kSlow; ++i) {
    const Outcome& o = outcomes[i];
    EXPECT_EQ(o.reply.status, 408) << "slow connection " << i << ": " << o.reply.describe();
    EXPECT_TRUE(o.reply.complete) << "slow connection " << i << ": " << o.reply.describe();
    if (o.first_byte_to_reply_ms < 0) {
      ADD_FAILURE() << "slow connection " << i
                    << ": no reply in 3 s of trickling, against a request_headers_timeout of 300 ms";
    } else {
      EXPECT_GE(o.first_byte_to_reply_ms, 250) << "slow connection " << i << ": 408 before request_headers_timeout";
      EXPECT_LE(o.first_byte_to_reply_ms, 1500)
          << "slow connection " << i << ": trickling kept the request open past request_headers_timeout (300 ms)";
    }
    EXPECT_TRUE(o.closed) << "slow connection " << i << " stayed open after its 408";
  }
  // The normal connection is unaffected afterwards.
  HttpReply after = normal.roundTrip(getRequest("/after"));
  EXPECT_EQ(after.body, "c1 GET /after\n") << after.describe();
  for (const auto& seen : up_.requests()) {
    EXPECT_NE(seen.target, "/slow") << "a trickled head reached the upstream: " << seen.describe();
  }
  EXPECT_EQ(up_.requestCount(), static_cast<size_t>(served) + 2);
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_timeout_total", kWeb, kSlow));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_2xx_total", kWeb, served + 2));
}

// codec auto waits for a full h2c preface before it picks HTTP/2; a client
// that stops inside one is a slow head like any other (408), not a
// connection held for idle_timeout.
TEST_F(HttpStrictnessMisc, StalledH2cPrefaceGets408) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send("PRI * HTTP/2.0\r\n\r\n"));
  HttpReply r = client.read(5s);
  EXPECT_EQ(r.status, 408) << r.describe();
  EXPECT_TRUE(client.waitClosed(3s));
  expectUpstreamSawNothing();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_rq_timeout_total", kWeb, 1));
}

TEST_F(HttpStrictnessMisc, ChunkedBodyOverLimitGets413) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  const std::string body = patternBytes(31, 2 << 20);
  // The body goes out on a thread: the proxy may stop reading once it has refused it.
  std::thread sender([&] {
    client.send(requestHead("POST", "/big", "example.com", {{"Transfer-Encoding", "chunked"}}) +
                    chunkedBody(body, 64 * 1024),
                5s);
  });
  HttpReply r = client.read(5s);
  sender.join();
  EXPECT_EQ(r.status, 413) << r.describe();
  for (const auto& seen : up_.requests()) {
    EXPECT_FALSE(seen.body_complete) << "the upstream got the whole over-limit body: " << seen.describe();
  }
}

TEST_F(HttpStrictnessMisc, MalformedRequestAfterAGoodOneInTheSameSend) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(getRequest("/good") +
                          withHost("POST /bad HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") +
                          "0\r\n\r\n"));
  HttpReply good = client.read(3s);
  EXPECT_TRUE(good.complete) << good.describe();
  EXPECT_EQ(good.status, 200) << good.describe();
  EXPECT_EQ(good.body, "c1 GET /good\n") << good.describe();
  HttpReply bad = client.read(3s);
  EXPECT_EQ(bad.status, 400) << bad.describe();
  EXPECT_TRUE(client.waitClosed(2s));
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(up_.requestCount(), 1u);
  EXPECT_EQ(up_.requests()[0].target, "/good");
}

TEST_F(HttpStrictnessMisc, MalformedRequestAfterAGoodResponse) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply good = client.roundTrip(getRequest("/good"));
  EXPECT_TRUE(good.complete) << good.describe();
  EXPECT_EQ(good.body, "c1 GET /good\n") << good.describe();
  HttpReply bad = client.roundTrip(withHost("GET / HTTP/1.1", "X-Folded: a\r\n  b\r\n"));
  EXPECT_EQ(bad.status, 400) << bad.describe();
  EXPECT_TRUE(client.waitClosed(2s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up_.requestCount(), 1u);
  // Other connections are unaffected.
  RawHttpClient other(port_);
  ASSERT_TRUE(other.connected());
  HttpReply again = other.roundTrip(getRequest("/again"));
  EXPECT_EQ(again.body, "c1 GET /again\n") << again.describe();
}

}  // namespace
}  // namespace sluice::itest
