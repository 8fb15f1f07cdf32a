// The overload manager through the real binary: each action driven past its
// threshold and back. Connections: at the limit the listeners stop accepting
// (a new client waits in the backlog, /ready says 503) until some close.
// Heap: filling the proxy's heap past a limit set (by reload) just above what
// it uses idle sheds new requests with 503 OL (a gRPC call with UNAVAILABLE)
// and closes their connections (an HTTP/2 one with a GOAWAY that covers the
// shed stream), then recovery once the heap is freed.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/h2_frames.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = 1024 * 1024;

std::string httpListener(const std::string& extra = "") {
  return extra + R"(
request_headers_timeout: 60s
max_request_headers_bytes: 1048576
route_config:
  virtual_hosts:
    - name: all
      domains: ["*"]
      routes:
        - match: {path: /direct}
          direct_response: {status: 200, body: "direct\n"}
        - match: {prefix: /}
          route: {cluster: c1}
)";
}

std::string withOverload(const std::string& overload, const std::string& rest) { return overload + rest; }

double actionActive(const ProxyProcess& proxy, const std::string& action) {
  return metricOr0(proxy, "sluice_overload_action_active", {{"action", action}});
}

TEST(Overload, StopAcceptingAtTheConnectionLimitUntilSomeClose) {
  HttpUpstream c1(describeRequest("c1"));
  constexpr int kMax = 10;
  const std::string overload = R"(overload:
  refresh_interval: 50ms
  resources:
    downstream_connections: {max: 10}
  actions:
    - {name: stop_accepting, when: {resource: downstream_connections, at: 1.0}}
)";
  ProxyProcess proxy(withOverload(overload, renderConfig(httpConfig(httpListener(), {cluster("c1", {c1.port()})}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  EXPECT_EQ(proxy.get("/ready").status, 200);

  std::vector<std::unique_ptr<RawHttpClient>> held;
  for (int i = 0; i < kMax; ++i) {
    held.push_back(std::make_unique<RawHttpClient>(port));
    ASSERT_TRUE(held.back()->connected());
    const HttpReply r = held.back()->roundTrip(getRequest("/direct"));
    ASSERT_EQ(r.status, 200) << "connection " << i << ": " << r.describe();
  }
  ASSERT_TRUE(proxy.waitMetricEq("sluice_overload_action_active", {{"action", "stop_accepting"}}, 1, 10s));
  EXPECT_GE(metricOr0(proxy, "sluice_overload_resource_pressure", {{"resource", "downstream_connections"}}), 1.0);
  const HttpResponse ready = proxy.get("/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("OVERLOADED"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("downstream_connections 10/10"), std::string::npos) << ready.body;

  // One more: the kernel completes its handshake, the proxy does not take it.
  RawHttpClient waiting(port);
  ASSERT_TRUE(waiting.connected());
  ASSERT_TRUE(waiting.send(getRequest("/direct")));
  const HttpReply early = waiting.read(500ms);
  EXPECT_EQ(early.status, 0) << "served while stop_accepting was in force: " << early.describe();

  // Three leave: the waiting client is taken and served.
  held.resize(kMax - 3);
  const HttpReply late = waiting.read(10s);
  EXPECT_EQ(late.status, 200) << late.describe();
  EXPECT_TRUE(proxy.waitMetricEq("sluice_overload_action_active", {{"action", "stop_accepting"}}, 0, 10s));
  EXPECT_EQ(proxy.get("/ready").status, 200);
  EXPECT_EQ(metricOr0(proxy, "sluice_overload_action_activations_total", {{"action", "stop_accepting"}}), 1);
  // The connections held all along still work.
  EXPECT_EQ(held.front()->roundTrip(getRequest("/direct")).status, 200);
}

TEST(Overload, HeapPressureShedsNewRequestsAndClosesKeepAliveThenRecovers) {
  HttpUpstream c1(describeRequest("c1"));
  TempDir logs;
  const std::string log_path = logs.path() + "/access.log";
  const std::string rest = renderConfig(httpConfig(
      httpListener("access_log: {path: " + log_path + ", format: \"%STATUS% %RESPONSE_FLAGS%\"}\n"),
      {cluster("c1", {c1.port()})}));
  auto overload = [](uint64_t max, double release_at) {
    return "overload:\n  refresh_interval: 50ms\n  resources:\n    heap_bytes: {max: " + std::to_string(max) +
           "}\n  actions:\n    - {name: shed_requests, when: {resource: heap_bytes, at: 1.0, release_at: " +
           std::to_string(release_at) + "}}\n    - {name: disable_keepalive, when: {resource: heap_bytes, at: 1.0, "
           "release_at: " + std::to_string(release_at) + "}}\n";
  };
  // First a limit nothing reaches, to read what the proxy uses idle.
  ProxyProcess proxy(overload(1ull << 40, 0.5) + rest);
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const auto idle = proxy.metric("sluice_overload_resource_used", {{"resource", "heap_bytes"}});
  ASSERT_TRUE(idle && *idle > 0) << "no heap_bytes sample";

  // Reload: the limit 12 MiB above that, released 8 MiB below the limit.
  const uint64_t limit = static_cast<uint64_t>(*idle) + 12 * kMiB;
  proxy.writeConfig(overload(limit, static_cast<double>(limit - 8 * kMiB) / static_cast<double>(limit)) + rest);
  const HttpResponse reload = proxy.post("/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  ASSERT_TRUE(proxy.waitMetricEq("sluice_overload_resource_max", {{"resource", "heap_bytes"}},
                                 static_cast<double>(limit), 5s));
  EXPECT_EQ(actionActive(proxy, "shed_requests"), 0);
  EXPECT_EQ(RawHttpClient(port).roundTrip(getRequest("/direct")).status, 200);

  // An HTTP/2 client connected before the pressure, to see what keep-alive
  // means there once it is disabled: a GOAWAY.
  h2::Client h2c(port);
  ASSERT_TRUE(h2c.connected());
  ASSERT_TRUE(h2c.handshake());
  ASSERT_EQ(h2c.waitForResponse(h2c.request(h2::requestHeaders("GET", "/direct"))).status(), 200);

  // Fill: request heads that never end, held by the proxy while they arrive
  // (each under max_request_headers_bytes).
  const std::string head = "GET /direct HTTP/1.1\r\nhost: example.com\r\nx-fill: " + std::string(800 * 1024, 'a');
  std::vector<std::unique_ptr<RawHttpClient>> fillers;
  for (int i = 0; i < 24; ++i) {
    fillers.push_back(std::make_unique<RawHttpClient>(port));
    ASSERT_TRUE(fillers.back()->connected());
    ASSERT_TRUE(fillers.back()->send(head, 10s));
  }
  ASSERT_TRUE(proxy.waitMetricEq("sluice_overload_action_active", {{"action", "shed_requests"}}, 1, 15s));
  EXPECT_EQ(actionActive(proxy, "disable_keepalive"), 1);
  EXPECT_EQ(proxy.get("/ready").status, 200) << "shedding is not a reason to stop sending traffic";

  // A new request is shed, and its connection closed after the answer.
  RawHttpClient shed(port);
  ASSERT_TRUE(shed.connected());
  const HttpReply r = shed.roundTrip(getRequest("/direct"));
  EXPECT_EQ(r.status, 503) << r.describe();
  EXPECT_EQ(r.body, "overloaded\n");
  EXPECT_EQ(r.header("connection"), "close") << r.describe();
  EXPECT_TRUE(shed.waitClosed(5s));
  // A gRPC call is shed as a gRPC status a client can read: UNAVAILABLE.
  RawHttpClient grpc(port);
  ASSERT_TRUE(grpc.connected());
  const HttpReply g = grpc.roundTrip(
      requestHead("POST", "/echo.Echo/Unary", "example.com", {{"content-type", "application/grpc"}, {"content-length", "0"}}));
  EXPECT_EQ(g.status, 200) << g.describe();
  EXPECT_EQ(g.header("grpc-status"), "14") << g.describe();
  // On HTTP/2 the shed request is answered on its stream, and the
  // connection gets a GOAWAY (NO_ERROR) that still covers that stream.
  const uint32_t h2_shed = h2c.request(h2::requestHeaders("GET", "/direct"));
  const h2::StreamState& hs = h2c.waitForResponse(h2_shed);
  EXPECT_EQ(hs.status(), 503) << hs.describe();
  EXPECT_TRUE(hs.end_stream) << hs.describe();
  const auto goaway = h2c.waitForGoAway(5s);
  ASSERT_TRUE(goaway) << "no GOAWAY while keep-alive is disabled";
  EXPECT_EQ(goaway->error_code, 0u) << h2::errorName(goaway->error_code);
  EXPECT_GE(goaway->last_stream_id, h2_shed);
  EXPECT_GE(metricOr0(proxy, "sluice_listener_downstream_rq_overload_shed_total", {{"listener", "web"}}), 3);
  EXPECT_GE(metricOr0(proxy, "sluice_listener_downstream_cx_overload_keepalive_disabled_total", {{"listener", "web"}}),
            1);
  // The log already holds the two 200s from before the pressure, and its
  // writer thread flushes on its own schedule: wait for the line itself.
  const bool logged = waitUntil(
      [&] {
        for (const auto& line : readLines(log_path))
          if (line == "503 OL") return true;
        return false;
      },
      5s);
  EXPECT_TRUE(logged) << "no '503 OL' line in the access log";

  // The fillers leave: the heap is freed, the actions end, requests are served.
  fillers.clear();
  EXPECT_TRUE(proxy.waitMetricEq("sluice_overload_action_active", {{"action", "shed_requests"}}, 0, 15s));
  EXPECT_EQ(actionActive(proxy, "disable_keepalive"), 0);
  RawHttpClient after(port);
  const HttpReply ok = after.roundTrip(getRequest("/direct"));
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_NE(ok.header("connection"), "close") << ok.describe();
  const HttpReply upstream = after.roundTrip(getRequest("/upstream"));
  EXPECT_EQ(upstream.body, "c1 GET /upstream\n") << upstream.describe();
}

}  // namespace
}  // namespace sluice::itest
