// Config reload through the real binary (SIGHUP and POST /reload): a valid
// change applies whole without disturbing live connections; a changed
// listener stops accepting and drains its live connections (TCP: for
// drain_timeout; HTTP/1: until the next response, which says close) while
// a fresh one serves the new config; an invalid one
// applies not at all, is counted, and is reported with file:line.

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/test_server.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const Labels kOk{{"result", "ok"}};
const Labels kFailed{{"result", "failed"}};
constexpr const char* kReloads = "sluice_server_config_reloads_total";

ConfigSpec withListeners(std::vector<std::string> names, uint16_t upstream_port) {
  ConfigSpec spec = simpleConfig({upstream_port});
  spec.listeners.clear();
  for (auto& n : names) {
    ListenerSpec l;
    l.name = n;
    spec.listeners.push_back(l);
  }
  return spec;
}

TEST(Reload, AddsListenersWithoutDisturbingLiveConnections) {
  TestServer echo(echoHandler());
  ProxyProcess proxy(renderConfig(withListeners({"l1"}, echo.port())));
  ASSERT_TRUE(proxy.start());
  auto port1 = proxy.waitListener("l1");
  ASSERT_TRUE(port1);

  // A connection mid-transfer: 256 KiB sent, only half of its echo read back.
  constexpr size_t kLen = 256 * 1024;
  const std::string payload = patternBytes(7, kLen);
  Fd old_conn = connectLoopback(*port1);
  ASSERT_TRUE(old_conn);
  ASSERT_EQ(echoRoundTrip(old_conn.get(), "before reload"), "");
  ASSERT_TRUE(sendAll(old_conn.get(), payload, Deadline(5s)));
  std::string first_half = recvExactly(old_conn.get(), kLen / 2, Deadline(5s));
  ASSERT_EQ(first_half.size(), kLen / 2);

  // 1) SIGHUP after rewriting the file.
  proxy.writeConfig(renderConfig(withListeners({"l1", "l2"}, echo.port())));
  ASSERT_TRUE(proxy.signal(SIGHUP));
  ASSERT_TRUE(proxy.waitMetricEq(kReloads, kOk, 1));
  auto port2 = proxy.waitListener("l2");
  ASSERT_TRUE(port2) << "l2 missing after reload; /listeners: " << proxy.get("/listeners").body;

  std::string second_half = recvExactly(old_conn.get(), kLen / 2, Deadline(5s));
  EXPECT_EQ(first_half + second_half, payload) << "the in-flight transfer was disturbed by reload";
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "after reload"), "");

  EXPECT_EQ(proxy.listenerPort("l1"), port1) << "an unchanged listener must keep its socket";
  {
    Fd c = connectLoopback(*port1);
    ASSERT_TRUE(c);
    EXPECT_EQ(echoRoundTrip(c.get(), "new on l1"), "");
  }
  {
    Fd c = connectLoopback(*port2);
    ASSERT_TRUE(c);
    EXPECT_EQ(echoRoundTrip(c.get(), "new on l2"), "");
  }
  EXPECT_NE(proxy.get("/config_dump").body.find("l2"), std::string::npos)
      << "/config_dump does not show the reloaded config";

  // 2) POST /reload, which answers only once the result is known.
  proxy.writeConfig(renderConfig(withListeners({"l1", "l2", "l3"}, echo.port())));
  HttpResponse r = proxy.post("/reload");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_TRUE(proxy.waitMetricEq(kReloads, kOk, 2));
  auto port3 = proxy.listenerPort("l3");
  ASSERT_TRUE(port3) << "l3 not listed right after POST /reload returned: " << proxy.get("/listeners").body;
  {
    Fd c = connectLoopback(*port3);
    ASSERT_TRUE(c);
    EXPECT_EQ(echoRoundTrip(c.get(), "new on l3"), "");
  }
  EXPECT_EQ(proxy.listenerPort("l1"), port1);
  EXPECT_EQ(proxy.listenerPort("l2"), port2);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "after second reload"), "");
  EXPECT_EQ(proxy.metric(kReloads, kFailed).value_or(0), 0);
}

TEST(Reload, NewEndpointsServeNewConnectionsOnly) {
  TestServer before(echoHandler()), after(echoHandler());
  ProxyProcess proxy(renderConfig(simpleConfig({before.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  Fd old_conn = connectLoopback(*port);
  ASSERT_TRUE(old_conn);
  ASSERT_EQ(echoRoundTrip(old_conn.get(), "to before"), "");
  ASSERT_EQ(before.acceptedCount(), 1);

  proxy.writeConfig(renderConfig(simpleConfig({after.port()})));
  HttpResponse r = proxy.post("/reload");
  ASSERT_EQ(r.status, 200) << r.error << r.body;

  // Each worker picks the new snapshot up on its own loop, and a new
  // connection lands on either: once a round of new connections all reach
  // the new endpoint, both have it, and from then on none may reach the old.
  auto roundReachesOnlyAfter = [&] {
    const int before_count = before.acceptedCount();
    const int after_count = after.acceptedCount();
    for (int i = 0; i < 8; ++i) {
      Fd c = connectLoopback(*port);
      if (!c || echoRoundTrip(c.get(), "probe") != "") return false;
    }
    return before.acceptedCount() == before_count && after.acceptedCount() == after_count + 8;
  };
  ASSERT_TRUE(waitUntil(roundReachesOnlyAfter, 5s)) << "new connections still reach the removed endpoint";
  for (int round = 0; round < 3; ++round)
    EXPECT_TRUE(roundReachesOnlyAfter()) << "a removed endpoint still gets connections";
  EXPECT_EQ(proxy.listenerPort("l1"), port);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "old connection, still to before"), "");
}

// A protocol with no drain notice (TCP proxy): a live connection on a
// changed listener stays usable through drain_timeout and is closed at it.
TEST(Reload, ChangedListenerDrainsLiveConnectionsUntilDrainTimeout) {
  TestServer echo(echoHandler());
  auto config = [&](uint32_t buffer_limit) {
    ConfigSpec spec = withListeners({"l1"}, echo.port());
    spec.listeners[0].buffer_limit_bytes = buffer_limit;
    spec.drain_timeout = "1500ms";
    return renderConfig(spec);
  };
  ProxyProcess proxy(config(1024 * 1024));
  ASSERT_TRUE(proxy.start());
  auto old_port = proxy.waitListener("l1");
  ASSERT_TRUE(old_port);
  Fd old_conn = connectLoopback(*old_port);
  ASSERT_TRUE(old_conn);
  ASSERT_EQ(echoRoundTrip(old_conn.get(), "before"), "");

  proxy.writeConfig(config(512 * 1024));
  const auto reloaded = Clock::now();
  HttpResponse rr = proxy.post("/reload");
  ASSERT_EQ(rr.status, 200) << rr.error << rr.body;
  auto new_port = proxy.listenerPort("l1");
  ASSERT_TRUE(new_port) << proxy.get("/listeners").body;
  // Bound to port 0, the changed listener got a socket of its own.
  ASSERT_NE(*new_port, *old_port);
  Fd new_conn = connectLoopback(*new_port);
  ASSERT_TRUE(new_conn);
  EXPECT_EQ(echoRoundTrip(new_conn.get(), "new"), "");

  // The old socket stops accepting.
  int last_err = 0;
  bool refused = waitUntil(
      [&] {
        Fd probe = connectLoopback(*old_port, 500ms, &last_err);
        return !probe && last_err == ECONNREFUSED;
      },
      1000ms);
  EXPECT_TRUE(refused) << "the old listener still accepts after the reload (last connect: "
                       << (last_err ? std::strerror(last_err) : "succeeded") << ")";

  // Well into the drain the old connection still carries bytes.
  std::this_thread::sleep_until(reloaded + 900ms);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "late"), "") << msSince(reloaded) << " ms after the reload";

  // drain_timeout (1.5 s) ends it.
  ReadToClose closed = readUntilClosed(old_conn.get(), Deadline(4000ms));
  const long long closed_ms = msSince(reloaded);
  EXPECT_NE(closed.how, CloseKind::kTimeout) << "old connection still open " << closed_ms << " ms after the reload";
  EXPECT_GE(closed_ms, 1300) << "closed before drain_timeout (1500ms)";
  EXPECT_LE(closed_ms, 3500) << "closed long after drain_timeout (1500ms)";
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_drain_closed_total", {{"listener", "l1"}}), 1);

  // The new listener's connection is not part of that drain.
  EXPECT_EQ(echoRoundTrip(new_conn.get(), "after"), "");
  EXPECT_EQ(proxy.metric(kReloads, kOk).value_or(0), 1);
}

// HTTP/1 knows where requests end: a keep-alive connection on a changed
// listener answers its next request, says `Connection: close`, and ends
// there, long before drain_timeout, with nothing left for the timeout.
TEST(Reload, ChangedHttpListenerEndsKeepAliveConnectionsBetweenRequests) {
  HttpUpstream up(describeRequest("c1"));
  auto config = [&](const std::string& idle_timeout) {
    ConfigSpec spec =
        httpConfig("idle_timeout: " + idle_timeout + "\n" + routeAllTo("c1"), {cluster("c1", {up.port()})});
    spec.drain_timeout = "10s";
    return renderConfig(spec);
  };
  ProxyProcess proxy(config("1h"));
  uint16_t old_port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &old_port));
  RawHttpClient old_conn(old_port);
  ASSERT_TRUE(old_conn.connected());
  HttpReply r = old_conn.roundTrip(getRequest("/before"));
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_FALSE(r.header("connection")) << r.describe();

  proxy.writeConfig(config("2h"));
  HttpResponse rr = proxy.post("/reload");
  ASSERT_EQ(rr.status, 200) << rr.error << rr.body;
  auto new_port = proxy.listenerPort("web");
  ASSERT_TRUE(new_port);
  ASSERT_NE(*new_port, old_port) << "the listener was not replaced";
  const auto reloaded = Clock::now();

  r = old_conn.roundTrip(getRequest("/during"));
  EXPECT_EQ(r.status, 200) << "the drain cut a request: " << r.describe();
  EXPECT_EQ(r.header("connection"), "close") << r.describe();
  EXPECT_TRUE(old_conn.waitClosed(2000ms)) << "not closed after the response that said Connection: close";
  EXPECT_LT(msSince(reloaded), 2000);
  EXPECT_EQ(curl({localUrl(*new_port, "/new")}).status, 200);
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_drain_closed_total", {{"listener", "web"}}), 0);
}

TEST(Reload, InvalidConfigKeepsTheOldOneServing) {
  TestServer echo(echoHandler());
  ProxyProcess proxy(renderConfig(withListeners({"l1"}, echo.port())));
  ASSERT_TRUE(proxy.start());
  auto port1 = proxy.waitListener("l1");
  ASSERT_TRUE(port1);
  Fd old_conn = connectLoopback(*port1);
  ASSERT_TRUE(old_conn);
  ASSERT_EQ(echoRoundTrip(old_conn.get(), "before"), "");

  // Adds l2 (valid) and an unknown field: nothing of it may apply.
  ConfigSpec bad = withListeners({"l1", "l2"}, echo.port());
  bad.listeners[1].extra_lines.push_back("no_such_field: 1");
  std::string bad_yaml = renderConfig(bad);
  int bad_line = lineOf(bad_yaml, "no_such_field");
  ASSERT_GT(bad_line, 0);
  proxy.writeConfig(bad_yaml);

  ASSERT_TRUE(proxy.signal(SIGHUP));
  ASSERT_TRUE(proxy.waitMetricEq(kReloads, kFailed, 1));
  EXPECT_EQ(proxy.metric(kReloads, kOk).value_or(0), 0);
  auto listeners = proxy.listeners();
  EXPECT_EQ(listeners.count("l2"), 0u) << "part of an invalid config was applied";
  EXPECT_EQ(proxy.listenerPort("l1"), port1);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "after SIGHUP"), "");
  {
    Fd c = connectLoopback(*port1);
    ASSERT_TRUE(c);
    EXPECT_EQ(echoRoundTrip(c.get(), "new after SIGHUP"), "");
  }

  HttpResponse r = proxy.post("/reload");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 400) << r.body;
  std::string where = proxy.configPath() + ":" + std::to_string(bad_line) + ":";
  EXPECT_NE(r.body.find(where), std::string::npos) << "error should name " << where << "; body:\n" << r.body;
  EXPECT_NE(r.body.find("no_such_field"), std::string::npos) << r.body;
  EXPECT_TRUE(proxy.waitMetricEq(kReloads, kFailed, 2));
  EXPECT_EQ(proxy.metric(kReloads, kOk).value_or(0), 0);
  EXPECT_EQ(proxy.listeners().count("l2"), 0u);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "after POST"), "");
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace sluice::itest
