// One request path through the real binary: a per-route rule on /admin
// (an authz deny, then a local rate limit) beside a catch-all route to a
// recording upstream. Every spelling of /admin that an upstream would
// resolve to /admin (dot segments, escapes, doubled slashes, escaped
// slashes, "..;", backslashes) is refused (400) or routed to the /admin route
// and handled there; none reaches the upstream unless the /admin rule lets
// it, and then as "/admin". A normal request reaches the upstream with the
// normalized path the route matched, query untouched, and the access log
// keeps the path as received in original_path. Escaped slashes are
// redirected (307) or forwarded unescaped when configured so. Absolute-form
// targets go through the same normalization once their authority is taken
// out, and `original_path_header` tells the upstream what was received.
//
// Requests go out as raw bytes (RawHttpClient): curl would resolve or
// re-encode some of these paths itself.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_message.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const Labels kWeb{{"listener", "web"}};

// An http: mapping: `top` (top-level keys), then a table with a named /admin
// route carrying `admin_filters` (a per_filter_config body, indented by 12)
// beside a catch-all.
std::string pathYaml(const std::string& top, const std::string& admin_filters) {
  return top + R"(
route_config:
  virtual_hosts:
    - name: all
      domains: ["*"]
      routes:
        - name: admin
          match: {prefix: /admin}
          route: {cluster: c1}
          per_filter_config:
)" + admin_filters +
         R"(        - name: rest
          match: {prefix: /}
          route: {cluster: c1}
)";
}

HttpReply send(uint16_t port, const std::string& target) {
  RawHttpClient client(port);
  if (!client.connected()) return {};
  return client.roundTrip(getRequest(target), 3s);
}

struct Hostile {
  std::string target;
  int status;  // 400: refused; else what the /admin route answers
  // Refused by the HTTP/1 parser (a target in no valid form: 400 and the
  // connection closes), not by the normalizer.
  bool by_parser = false;
};

// Each resolves to /admin (or above the root) on an upstream that decodes
// and resolves paths itself. `routed` is the /admin route's answer.
std::vector<Hostile> hostileForms(int routed) {
  return {
      {"/x/../admin", routed},
      {"/x/%2e%2e/admin", routed},
      {"/x/%2E%2E/admin/users", routed},
      {"/a/b/%2e%2e/%2e%2e/admin", routed},
      {"/%2e/admin", routed},
      {"/%61dmin", routed},
      {"/%61%64%6d%69%6e", routed},
      {"//admin", routed},
      {"///admin//users", routed},
      {"/admin/.", routed},
      {"/./admin", routed},
      {"/%2e%2e/admin", 400},
      {"/%2E%2E/admin", 400},
      {"/x/../../admin", 400},
      {"/x/%2e%2e/%2e%2e/admin", 400},
      {"/x%2F..%2Fadmin", 400},
      {"/x/..%2fadmin", 400},
      {"/x/..%5Cadmin", 400},
      {"/x/..;/admin", 400},
      {"/x/.;/../admin", 400},
      {"/\\admin", 400},
      {"/x/..\\admin", 400},
      {"/admin%00", 400},
      {"/x/%00/../admin", 400},
      {"/admin%", 400},
      {"/adm%zzin", 400},
      {"/x/%C0%AE%C0%AE/admin", 400},  // overlong UTF-8 "..": RFC 3629 3
      {"/x/%c0%ae%c0%ae/admin", 400},
      {"/x/%E0%80%AE%E0%80%AE/admin", 400},
      {"/x%C0%AF..%C0%AFadmin", 400},
      {"/x/%F0%80%80%AE%F0%80%80%AE/admin", 400},
      {"/admin#x", 400, true},  // RFC 9112 3.2: a fragment is in no request-target form
  };
}

class PathNormalization : public ::testing::Test {
 protected:
  void start(const std::string& http_yaml) {
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(http_yaml, {cluster("c1", {up_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  std::string logPath() const { return logs_.path() + "/access.log"; }
  std::string accessLog() const { return "access_log: {path: " + logPath() + ", format: json}\n"; }

  HttpUpstream up_{describeRequest("c1")};
  TempDir logs_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(PathNormalization, AuthzDenyOnAdminCannotBeBypassed) {
  start(pathYaml(accessLog() + "http_filters:\n  - authz: {stat_prefix: open, default_action: allow}",
                 "            authz: {stat_prefix: admin, default_action: deny}\n"));

  const auto forms = hostileForms(403);
  int refused = 0;
  int refused_by_parser = 0;
  for (const auto& h : forms) {
    HttpReply r = send(port_, h.target);
    EXPECT_EQ(r.status, h.status) << h.target << ": " << r.describe();
    if (h.by_parser) {
      ++refused_by_parser;
    } else if (h.status == 400) {
      ++refused;
    }
  }
  EXPECT_EQ(send(port_, "/admin").status, 403);

  // A normal request, and one that normalizes to an allowed path: the
  // upstream gets what the route matched, the query as sent.
  HttpReply plain = send(port_, "/api/v1?q=1");
  EXPECT_EQ(plain.status, 200) << plain.describe();
  HttpReply dotted = send(port_, "/api/./v1//users/../items/%7Ea?x=/../%2F&y=%41");
  EXPECT_EQ(dotted.status, 200) << dotted.describe();
  ASSERT_TRUE(up_.waitForRequests(2, 3s));
  std::this_thread::sleep_for(100ms);  // anything that slipped through would have arrived
  const auto seen = up_.requests();
  ASSERT_EQ(seen.size(), 2u) << "only the two allowed requests reach the upstream; last: "
                             << seen.back().describe();
  EXPECT_EQ(seen[0].target, "/api/v1?q=1");
  EXPECT_EQ(seen[1].target, "/api/v1/items/~a?x=/../%2F&y=%41");

  // The access log: the path routed and forwarded, and the one received.
  auto normalized = waitJsonEntry(logPath(), "original_path", "/api/./v1//users/../items/%7Ea?x=/../%2F&y=%41");
  ASSERT_TRUE(normalized) << readFile(logPath());
  EXPECT_EQ(field(*normalized, "path"), "/api/v1/items/~a?x=/../%2F&y=%41");
  EXPECT_EQ(field(*normalized, "route"), "rest");
  auto denied = waitJsonEntry(logPath(), "original_path", "/x/../admin");
  ASSERT_TRUE(denied) << readFile(logPath());
  EXPECT_EQ(field(*denied, "path"), "/admin");
  EXPECT_EQ(field(*denied, "route"), "admin");
  EXPECT_EQ(field(*denied, "status"), "403");
  EXPECT_NE(field(*denied, "response_flags").find("AZ"), std::string::npos) << denied->dump();
  auto escaped = waitJsonEntry(logPath(), "original_path", "/x%2F..%2Fadmin");
  ASSERT_TRUE(escaped) << readFile(logPath());
  EXPECT_EQ(field(*escaped, "status"), "400");
  EXPECT_EQ(field(*escaped, "details"), "escaped_slash");
  EXPECT_EQ(field(*escaped, "response_flags"), "DPE");
  auto above = waitJsonEntry(logPath(), "original_path", "/x/../../admin");
  ASSERT_TRUE(above) << readFile(logPath());
  EXPECT_EQ(field(*above, "details"), "path_normalization_failed");
  auto plain_entry = waitJsonEntry(logPath(), "path", "/api/v1?q=1");
  ASSERT_TRUE(plain_entry) << readFile(logPath());
  EXPECT_EQ(field(*plain_entry, "original_path"), "/api/v1?q=1");

  // The normalizer's 400s (the HTTP/1 parser lets '\' and escapes through to
  // it) and the parser's are all protocol errors; each routed form was rewritten.
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_path_rejected_total", kWeb, refused));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_protocol_error_total", kWeb,
                                   refused + refused_by_parser));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_path_normalized_total", kWeb,
                                   static_cast<double>(forms.size() - refused - refused_by_parser + 1)));
}

// RFC 9112 3.2.2: an absolute-form target's path, once its authority is
// taken out, is normalized like an origin-form one: the same hostile forms
// are refused or land on /admin and are denied; none reaches the upstream,
// and what does reach it is the path its route matched.
TEST_F(PathNormalization, AbsoluteFormIsNormalizedLikeOriginForm) {
  start(pathYaml(accessLog() + "http_filters:\n  - authz: {stat_prefix: open, default_action: allow}",
                 "            authz: {stat_prefix: admin, default_action: deny}\n"));
  int n = 0;
  auto sendAbsolute = [&](const std::string& authority, const std::string& path) {
    RawHttpClient client(port_);
    if (!client.connected()) return HttpReply{};
    const std::string id = "abs-" + std::to_string(n++);
    return client.roundTrip("GET http://" + authority + path + " HTTP/1.1\r\nHost: example.com\r\nX-Request-Id: " +
                                id + "\r\n\r\n",
                            3s);
  };
  for (const auto& h : hostileForms(403)) {
    HttpReply r = sendAbsolute("example.com", h.target);
    EXPECT_EQ(r.status, h.status) << "http://example.com" << h.target << ": " << r.describe();
  }
  EXPECT_EQ(sendAbsolute("example.com", "/admin").status, 403);
  EXPECT_EQ(sendAbsolute("Example.com:80", "/admin/").status, 403);

  HttpReply dotted = sendAbsolute("example.com", "/api/./v1//users/../items/%7Ea?x=/../%2F");
  EXPECT_EQ(dotted.status, 200) << dotted.describe();
  HttpReply bare = sendAbsolute("example.com", "");
  EXPECT_EQ(bare.status, 200) << bare.describe();
  HttpReply query = sendAbsolute("example.com:8080", "?q=/../admin");
  EXPECT_EQ(query.status, 200) << query.describe();

  ASSERT_TRUE(up_.waitForRequests(3, 3s));
  std::this_thread::sleep_for(100ms);  // anything that slipped through would have arrived
  const auto seen = up_.requests();
  ASSERT_EQ(seen.size(), 3u) << "only the allowed requests reach the upstream; last: " << seen.back().describe();
  EXPECT_EQ(seen[0].target, "/api/v1/items/~a?x=/../%2F");
  EXPECT_EQ(seen[1].target, "/");
  EXPECT_EQ(seen[2].target, "/?q=/../admin");
  EXPECT_EQ(seen[2].header("host").value_or(""), "example.com:8080");
  for (const auto& req : seen) {
    // The route matched what the upstream received: the access log's path
    // for this request id is the upstream's target.
    const std::string id = req.header("x-request-id").value_or("");
    auto entry = waitJsonEntry(logPath(), "request_id", id);
    ASSERT_TRUE(entry) << id << ": " << readFile(logPath());
    EXPECT_EQ(field(*entry, "path"), req.target) << entry->dump();
    EXPECT_EQ(field(*entry, "route"), "rest") << entry->dump();
    EXPECT_FALSE(req.header("x-envoy-original-path")) << "off unless configured: " << req.describe();
  }
  auto denied = waitJsonEntry(logPath(), "original_path", "/x/../admin");
  ASSERT_TRUE(denied) << readFile(logPath());
  EXPECT_EQ(field(*denied, "path"), "/admin");
  EXPECT_EQ(field(*denied, "authority"), "example.com");
  EXPECT_EQ(field(*denied, "status"), "403");
}

// `original_path_header`: the upstream learns the path as received when,
// and only when, normalization changed it; a client cannot write it.
TEST_F(PathNormalization, OriginalPathHeaderOnlyWhenConfiguredAndChanged) {
  start(pathYaml("original_path_header: x-envoy-original-path\nhttp_filters:\n  - authz: {stat_prefix: open}",
                 "            authz: {stat_prefix: admin, default_action: deny}\n"));
  auto sendRaw = [&](const std::string& request) {
    RawHttpClient client(port_);
    return client.connected() ? client.roundTrip(request, 3s) : HttpReply{};
  };
  const HeaderList spoof{{"X-Envoy-Original-Path", "/spoofed"}};
  EXPECT_EQ(sendRaw(getRequest("/api/./v1//x/../y?q=%2e", "example.com", spoof)).status, 200);
  EXPECT_EQ(sendRaw(getRequest("/api/v1", "example.com", spoof)).status, 200);
  EXPECT_EQ(sendRaw("GET http://example.com/a/../b?q HTTP/1.1\r\nHost: example.com\r\n\r\n").status, 200);
  EXPECT_EQ(sendRaw(getRequest("/x/../admin", "example.com", spoof)).status, 403);
  // Nor in trailers, which some upstreams merge into the headers.
  EXPECT_EQ(sendRaw("POST /api/v1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    chunkedBody("hello", 5, {{"X-Envoy-Original-Path", "/spoofed"}, {"x-kept", "1"}}))
                .status,
            200);
  ASSERT_TRUE(up_.waitForRequests(4, 3s));
  const auto seen = up_.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(countHeader(seen[3].trailers, "x-envoy-original-path"), 0u) << seen[3].describe();
  EXPECT_EQ(countHeader(seen[3].trailers, "x-kept"), 1u) << seen[3].describe();
  EXPECT_EQ(seen[0].target, "/api/v1/y?q=%2e");
  EXPECT_EQ(countHeader(seen[0].headers, "x-envoy-original-path"), 1u) << seen[0].describe();
  EXPECT_EQ(seen[0].header("x-envoy-original-path").value_or(""), "/api/./v1//x/../y?q=%2e");
  EXPECT_EQ(seen[1].target, "/api/v1");
  EXPECT_FALSE(seen[1].header("x-envoy-original-path")) << "unchanged path: " << seen[1].describe();
  EXPECT_EQ(seen[2].target, "/b?q");
  EXPECT_EQ(seen[2].header("x-envoy-original-path").value_or(""), "/a/../b?q");
}

TEST_F(PathNormalization, HostileFormsCountAgainstTheAdminRateLimit) {
  start(pathYaml("http_filters:\n  - local_ratelimit: {stat_prefix: edge}",
                 "            local_ratelimit:\n"
                 "              stat_prefix: admin\n"
                 "              token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 60s}\n"));

  // Three tokens: the first three spellings of /admin take them and reach
  // the upstream as "/admin"; every later one, however spelled, is limited.
  const auto forms = hostileForms(429);
  EXPECT_EQ(send(port_, "/x/../admin").status, 200);
  EXPECT_EQ(send(port_, "/%61dmin").status, 200);
  EXPECT_EQ(send(port_, "//admin").status, 200);
  for (const auto& h : forms) {
    HttpReply r = send(port_, h.target);
    EXPECT_EQ(r.status, h.status) << h.target << ": " << r.describe();
  }
  EXPECT_EQ(send(port_, "/admin").status, 429);
  EXPECT_EQ(send(port_, "/other").status, 200) << "the catch-all has no limit";

  ASSERT_TRUE(up_.waitForRequests(4, 3s));
  std::this_thread::sleep_for(100ms);
  const auto seen = up_.requests();
  ASSERT_EQ(seen.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(seen[i].target, "/admin") << i;
  EXPECT_EQ(seen[3].target, "/other");
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_local_ratelimit_requests_total",
                                   {{"stat_prefix", "admin"}, {"result", "ok"}}, 3));
}

TEST_F(PathNormalization, EscapedSlashesRedirectedWhenConfigured) {
  start(pathYaml("path_with_escaped_slashes: unescape_and_redirect\nhttp_filters:\n  - authz: {stat_prefix: open}",
                 "            authz: {stat_prefix: admin, default_action: deny}\n"));
  HttpReply r = send(port_, "/x%2F..%2Fadmin?q=%2F");
  EXPECT_EQ(r.status, 307) << r.describe();
  EXPECT_EQ(r.header("location").value_or(""), "/admin?q=%2F") << r.describe();
  // Following it lands on the /admin route like any other request.
  EXPECT_EQ(send(port_, "/admin?q=%2F").status, 403);
  HttpReply fine = send(port_, "/api%2fv1");
  EXPECT_EQ(fine.status, 307) << fine.describe();
  EXPECT_EQ(fine.header("location").value_or(""), "/api/v1");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up_.requestCount(), 0u);
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_path_redirected_total", kWeb, 2));
}

TEST_F(PathNormalization, EscapedSlashesForwardedUnescapedWhenConfigured) {
  start(pathYaml("path_with_escaped_slashes: unescape_and_forward\nhttp_filters:\n  - authz: {stat_prefix: open}",
                 "            authz: {stat_prefix: admin, default_action: deny}\n"));
  EXPECT_EQ(send(port_, "/x%2F..%2Fadmin").status, 403);
  EXPECT_EQ(send(port_, "/x/..%5cadmin").status, 403);
  HttpReply ok = send(port_, "/api%2Fv1%2f?a=%2F");
  EXPECT_EQ(ok.status, 200) << ok.describe();
  ASSERT_TRUE(up_.waitForRequests(1, 3s));
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(up_.requestCount(), 1u);
  EXPECT_EQ(up_.lastRequest()->target, "/api/v1/?a=%2F");
}

}  // namespace
}  // namespace sluice::itest
