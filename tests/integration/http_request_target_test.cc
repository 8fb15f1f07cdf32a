// What an HTTP/1 request that is valid but unusual becomes on its way to the
// upstream, checked on both sides: what the client got, and the request the
// upstream received. Absolute-form targets are routed by their authority,
// which replaces Host, and forwarded in origin-form (RFC 9112 3.2.2); higher
// HTTP/1 minor versions are served as 1.1 (RFC 9110 2.5); an HTTP/1.0
// request, with or without Host or keep-alive, is forwarded as a valid
// HTTP/1.1 request (RFC 9112 3.2); OPTIONS * is not a 400 (3.2.4).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_message.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const char* const kTwoHostsYaml = R"(
  route_config:
    virtual_hosts:
      - name: api
        domains: ["api.example.com"]
        routes:
          - match: {prefix: /}
            route: {cluster: api}
      - name: rest
        domains: ["*"]
        routes:
          - match: {prefix: /}
            route: {cluster: web}
)";

class RequestTargets : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(
        renderConfig(httpConfig(kTwoHostsYaml, {cluster("api", {api_.port()}), cluster("web", {web_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  // The one request `up` received, after the reply `r` to it.
  UpstreamRequest onlyRequest(HttpUpstream& up, const HttpReply& r) {
    EXPECT_TRUE(up.waitForRequests(1, 3s)) << r.describe();
    const auto seen = up.requests();
    EXPECT_EQ(seen.size(), 1u);
    return seen.empty() ? UpstreamRequest{} : seen.back();
  }
  std::string upstreamHost(uint16_t port) const { return "127.0.0.1:" + std::to_string(port); }

  HttpUpstream api_{describeRequest("api")};
  HttpUpstream web_{describeRequest("web")};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

// RFC 9112 3.2.2: the absolute-form authority routes the request and is the
// Host the upstream receives; the Host the client sent is ignored.
TEST_F(RequestTargets, AbsoluteFormIsRoutedByItsAuthority) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip("GET http://api.example.com/x/y?q=1 HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "api GET /x/y?q=1\n");
  const UpstreamRequest seen = onlyRequest(api_, r);
  EXPECT_EQ(seen.target, "/x/y?q=1");
  EXPECT_EQ(seen.version, "HTTP/1.1");
  EXPECT_EQ(countHeader(seen.headers, "host"), 1u) << seen.describe();
  EXPECT_EQ(seen.header("host").value_or(""), "api.example.com");

  // https, a port, no path: "/" and the authority as sent; same connection.
  HttpReply s = client.roundTrip("GET HTTPS://API.example.com:8443 HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
  EXPECT_EQ(s.status, 200) << s.describe();
  ASSERT_TRUE(api_.waitForRequests(2, 3s));
  EXPECT_EQ(api_.lastRequest()->target, "/");
  EXPECT_EQ(api_.lastRequest()->header("host").value_or(""), "API.example.com:8443");

  // And the other way round: Host names api, the authority does not.
  HttpReply t = client.roundTrip("GET http://www.example.com?x HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
  EXPECT_EQ(t.status, 200) << t.describe();
  EXPECT_EQ(t.body, "web GET /?x\n");
  const UpstreamRequest other = onlyRequest(web_, t);
  EXPECT_EQ(other.header("host").value_or(""), "www.example.com");
  EXPECT_EQ(api_.requestCount(), 2u);
}

// RFC 9112 3.2: a request forwarded as HTTP/1.1 carries Host, even when an
// HTTP/1.0 client sent none: the upstream's address stands in. The 1.0
// client keeps its own connection semantics.
TEST_F(RequestTargets, Http10WithoutHostIsForwardedAsValidHttp11) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip("GET /old HTTP/1.0\r\nUser-Agent: t\r\n\r\n");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "web GET /old\n");
  EXPECT_EQ(r.header("connection").value_or(""), "close") << r.describe();
  EXPECT_TRUE(client.waitClosed(3s)) << "an HTTP/1.0 request without keep-alive ends its connection";
  const UpstreamRequest seen = onlyRequest(web_, r);
  EXPECT_EQ(seen.version, "HTTP/1.1");
  EXPECT_EQ(countHeader(seen.headers, "host"), 1u) << seen.describe();
  EXPECT_EQ(seen.header("host").value_or(""), upstreamHost(web_.port()));
  EXPECT_FALSE(seen.header("connection")) << seen.describe();
  EXPECT_FALSE(seen.header("transfer-encoding")) << seen.describe();
}

TEST_F(RequestTargets, Http10KeepAliveIsKeptAndHostIsForwarded) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  const std::string request = "GET /ka HTTP/1.0\r\nHost: api.example.com\r\nConnection: keep-alive\r\n\r\n";
  HttpReply first = client.roundTrip(request);
  EXPECT_EQ(first.status, 200) << first.describe();
  EXPECT_EQ(first.header("connection").value_or(""), "keep-alive") << first.describe();
  // The connection is still there for a second request.
  HttpReply second = client.roundTrip("GET /ka2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(second.status, 200) << second.describe();
  EXPECT_EQ(second.body, "web GET /ka2\n");
  ASSERT_TRUE(api_.waitForRequests(1, 3s));
  const UpstreamRequest seen = api_.requests()[0];
  EXPECT_EQ(seen.version, "HTTP/1.1");
  EXPECT_EQ(seen.header("host").value_or(""), "api.example.com");
  EXPECT_FALSE(seen.header("connection")) << "keep-alive is hop-by-hop: " << seen.describe();
  // An absolute-form authority needs no Host beside it on HTTP/1.0.
  RawHttpClient other(port_);
  ASSERT_TRUE(other.connected());
  HttpReply abs = other.roundTrip("GET http://api.example.com/abs HTTP/1.0\r\n\r\n");
  EXPECT_EQ(abs.body, "api GET /abs\n") << abs.describe();
  ASSERT_TRUE(api_.waitForRequests(2, 3s));
  EXPECT_EQ(api_.lastRequest()->header("host").value_or(""), "api.example.com");
}

// RFC 9110 2.5: HTTP/1.2 to 1.9 are served as HTTP/1.1: Host required (see
// http_strictness_test), keep-alive by default, an HTTP/1.1 response.
TEST_F(RequestTargets, HigherMinorVersionIsServedAs11) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  for (const char* version : {"HTTP/1.2", "HTTP/1.9"}) {
    HttpReply r = client.roundTrip(std::string("GET /v HTTP/1.x\r\nHost: api.example.com\r\n\r\n").replace(7, 8, version));
    EXPECT_EQ(r.status, 200) << version << ": " << r.describe();
    EXPECT_EQ(r.version, "HTTP/1.1");
    EXPECT_FALSE(r.header("connection")) << r.describe();
  }
  ASSERT_TRUE(api_.waitForRequests(2, 3s));
  for (const auto& seen : api_.requests()) EXPECT_EQ(seen.version, "HTTP/1.1");
}

// RFC 9112 3.2.4: OPTIONS * is a valid request; no prefix route matches
// "*", so it is answered by routing (404), not refused as malformed.
TEST_F(RequestTargets, OptionsAsteriskIsNotMalformed) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  HttpReply r = client.roundTrip("OPTIONS * HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
  EXPECT_EQ(r.status, 404) << r.describe();
  HttpReply after = client.roundTrip(getRequest("/after", "api.example.com"));
  EXPECT_EQ(after.status, 200) << "the connection stays usable: " << after.describe();
}

}  // namespace
}  // namespace sluice::itest
