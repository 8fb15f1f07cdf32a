// Slow and broken upstreams side by side with healthy traffic, on one
// HTTP/2 connection, through the real binary. An upstream that accepts and
// never answers, one that answers one byte a second (its head, or only its
// body), one that resets mid-body and one that sends garbage each get their
// documented outcome (what the client sees, the access log's status and
// flag), while requests to a healthy upstream on the same connection, in
// between, are answered at once: no stream waits on another's upstream.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/h2_frames.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

HttpUpstream::Handler brokenUpstream() {
  return byPathPrefix({{"/never", neverAnswer()},
                       {"/trickle-head", trickleResponse(1s, "slow body", /*head_at_once=*/false)},
                       {"/trickle-body", trickleResponse(1s, "slow body", /*head_at_once=*/true)},
                       {"/reset-mid", closeMidResponse(1000000, 1000, /*reset=*/true)},
                       {"/garbage", garbageResponse()}},
                      describeRequest("broken"));
}

TEST(SlowUpstreams, EachGetsItsOutcomeAndNoneStallsOtherStreamsOnTheConnection) {
  HttpUpstream broken(brokenUpstream());
  HttpUpstream healthy(describeRequest("healthy"));
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(R"(
    access_log: {path: )" + log + R"(, format: json}
    route_config:
      virtual_hosts:
        - name: all
          domains: ["*"]
          routes:
            - match: {prefix: /ok}
              route: {cluster: healthy}
            - match: {prefix: /}
              route: {cluster: broken, timeout: 2s}
  )", {cluster("broken", {broken.port()}), cluster("healthy", {healthy.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  h2::Client client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.handshake());
  const std::vector<std::string> bad = {"/never", "/trickle-head", "/trickle-body", "/reset-mid", "/garbage"};
  std::map<std::string, uint32_t> ids;
  for (const auto& path : bad) ids[path] = client.request(h2::requestHeaders("GET", path));

  // While those are pending (the slow ones for 2 s), healthy requests on the
  // same connection come back at once.
  const auto start = Clock::now();
  int healthy_served = 0;
  long long worst_ms = 0;
  for (int i = 0; msSince(start) < 1500 && i < 50; ++i) {
    const auto sent = Clock::now();
    const std::string path = "/ok/" + std::to_string(i);
    const h2::StreamState& s = client.waitForResponse(client.request(h2::requestHeaders("GET", path)), 2000ms);
    ASSERT_EQ(s.status(), 200) << path << ": " << s.describe();
    EXPECT_EQ(s.body, "healthy GET " + path + "\n");
    worst_ms = std::max(worst_ms, msSince(sent));
    ++healthy_served;
  }
  EXPECT_GE(healthy_served, 5);
  EXPECT_LT(worst_ms, 500) << "a healthy stream waited on a slow upstream's stream";

  std::map<std::string, h2::StreamState> outcome;
  for (const auto& path : bad) outcome[path] = client.waitForResponse(ids[path], 6000ms);

  // Never answers, or its head trickles: the route's 2 s timeout, 504 UT.
  for (const std::string path : {"/never", "/trickle-head"}) {
    EXPECT_EQ(outcome[path].status(), 504) << path << ": " << outcome[path].describe();
    EXPECT_TRUE(outcome[path].end_stream) << path << ": " << outcome[path].describe();
  }
  // The head came at once, then the body a byte a second: the response had
  // started, so the timeout can only cut it short (RST_STREAM), never turn
  // it into a second, different answer.
  EXPECT_EQ(outcome["/trickle-body"].status(), 200) << outcome["/trickle-body"].describe();
  EXPECT_TRUE(outcome["/trickle-body"].rst.has_value()) << outcome["/trickle-body"].describe();
  EXPECT_LT(outcome["/trickle-body"].body.size(), std::string("slow body").size());
  // Reset mid-body: the client's stream is reset too, after what arrived.
  EXPECT_EQ(outcome["/reset-mid"].status(), 200) << outcome["/reset-mid"].describe();
  EXPECT_TRUE(outcome["/reset-mid"].rst.has_value()) << outcome["/reset-mid"].describe();
  EXPECT_LT(outcome["/reset-mid"].body_bytes, 1000000u);
  // Garbage: 502, and none of it reaches the client.
  EXPECT_EQ(outcome["/garbage"].status(), 502) << outcome["/garbage"].describe();
  EXPECT_EQ(outcome["/garbage"].body.find("SPAM"), std::string::npos);

  const std::map<std::string, std::pair<std::string, std::string>> logged = {
      {"/never", {"504", "UT"}},     {"/trickle-head", {"504", "UT"}}, {"/trickle-body", {"200", "UT"}},
      {"/reset-mid", {"200", "UC"}}, {"/garbage", {"502", "UPE"}}};
  for (const auto& [path, want] : logged) {
    auto e = waitJsonEntry(log, "path", path);
    ASSERT_TRUE(e) << "no access log entry for " << path << "; log:\n" << readFile(log);
    EXPECT_EQ(field(*e, "status"), want.first) << path << ": " << e->dump();
    EXPECT_NE(field(*e, "response_flags").find(want.second), std::string::npos) << path << ": " << e->dump();
  }

  // The connection itself survived all of it.
  const h2::StreamState& after = client.waitForResponse(client.request(h2::requestHeaders("GET", "/ok/after")));
  EXPECT_EQ(after.status(), 200) << after.describe();
  EXPECT_FALSE(client.goAway().has_value()) << "the proxy ended the connection";
}

}  // namespace
}  // namespace sluice::itest
