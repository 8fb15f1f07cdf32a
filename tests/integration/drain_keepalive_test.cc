// Draining HTTP/1 keep-alive connections under load, through the real
// binary: a listener replaced by a reload, and SIGTERM. Busy keep-alive
// clients are told with `Connection: close` on their next response and the
// connection ends between requests, so no request a client already sent is
// cut, and the drain ends long before drain_timeout.

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <thread>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/keepalive_load.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

constexpr int kClients = 16;
const Labels kWeb{{"listener", "web"}};

TEST(DrainKeepAlive, SigtermUnderLoadCutsNoRequestAndEndsBeforeTheTimeout) {
  HttpUpstream c1(describeRequest("c1"));
  ConfigSpec spec = httpConfig(routeAllTo("c1"), {cluster("c1", {c1.port()})});
  spec.drain_timeout = "10s";
  ProxyProcess proxy(renderConfig(spec));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  KeepAliveLoad load(port, kClients, /*reconnect=*/false, "", 8s);
  ASSERT_TRUE(waitUntil([&] { return load.okSoFar() > 500; }, 5s)) << "the load never got going";
  const auto start = Clock::now();
  ASSERT_TRUE(proxy.signal(SIGTERM));
  auto status = proxy.waitExit(6s);
  const long long exit_ms = msSince(start);
  load.stop();
  const auto t = load.totals();

  EXPECT_EQ(t.cut, 0u) << "requests cut by the drain; first: " << t.first_cut;
  EXPECT_EQ(t.told_to_close, static_cast<uint64_t>(kClients))
      << "every busy keep-alive connection must be told with Connection: close";
  ASSERT_TRUE(status) << "still running 6 s after SIGTERM: keep-alive connections were not closed between requests";
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
  EXPECT_LT(exit_ms, 4000) << "the drain waited for its timeout instead of closing between requests";
}

TEST(DrainKeepAlive, ReplacedListenerUnderLoadCutsNoRequest) {
  HttpUpstream c1(describeRequest("c1"));
  HttpUpstream c2(describeRequest("c2"));
  ConfigSpec spec = httpConfig(routeAllTo("c1"), {cluster("c1", {c1.port()}), cluster("c2", {c2.port()})});
  spec.drain_timeout = "2s";
  ProxyProcess proxy(renderConfig(spec));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // The new listener takes over the same port (SO_REUSEPORT) with another
  // buffer limit and another route: a changed listener, which drains.
  ConfigSpec next = httpConfig(routeAllTo("c2"), {cluster("c1", {c1.port()}), cluster("c2", {c2.port()})});
  next.drain_timeout = "2s";
  next.listeners[0].port = port;
  next.listeners[0].buffer_limit_bytes = 512 * 1024;

  KeepAliveLoad load(port, kClients, /*reconnect=*/true, "c2 ", 8s);
  ASSERT_TRUE(waitUntil([&] { return load.okSoFar() > 500; }, 5s)) << "the load never got going";
  proxy.writeConfig(renderConfig(next));
  HttpResponse reload = proxy.post("/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  // Past drain_timeout: a connection the old listener had not closed
  // between requests by then was cut by its timeout.
  std::this_thread::sleep_for(3s);
  load.stop();
  const auto t = load.totals();

  EXPECT_EQ(t.cut, 0u) << "requests cut by the listener change; first: " << t.first_cut;
  EXPECT_GE(t.told_to_close, static_cast<uint64_t>(kClients))
      << "every connection of the replaced listener must be told with Connection: close";
  EXPECT_GT(t.by_body_prefix_new, 100u) << "new connections were not served by the new config";
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_drain_closed_total", kWeb), 0)
      << "connections were left for the drain timeout to close";
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace sluice::itest
