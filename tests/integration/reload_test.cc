// Config reload through the real binary (SIGHUP and POST /reload): a valid
// change applies whole without disturbing live connections; a changed
// listener stops accepting and drains its live connections (old config)
// for drain_timeout while a fresh one serves the new config; an invalid one
// applies not at all, is counted, and is reported with file:line.

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/test_server.h"

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
  ASSERT_TRUE(port3) << "l3 not listed right after POST /reload returned: "
                     << proxy.get("/listeners").body;
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

  // Workers pick the new snapshot up asynchronously; poll with new connections.
  int tries = 0;
  bool switched = waitUntil(
      [&] {
        ++tries;
        Fd c = connectLoopback(*port);
        return c && echoRoundTrip(c.get(), "probe") == "" && after.acceptedCount() > 0;
      },
      5s);
  ASSERT_TRUE(switched) << "no connection reached the new endpoint in " << tries << " tries";
  int before_count = before.acceptedCount();
  for (int i = 0; i < 4; ++i) {
    Fd c = connectLoopback(*port);
    ASSERT_TRUE(c);
    EXPECT_EQ(echoRoundTrip(c.get(), "new " + std::to_string(i)), "");
  }
  EXPECT_EQ(before.acceptedCount(), before_count) << "a removed endpoint still gets connections";
  EXPECT_EQ(proxy.listenerPort("l1"), port);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "old connection, still to before"), "");
}

TEST(Reload, ChangedListenerDrainsLiveConnectionsUntilDrainTimeout) {
  HttpUpstream up(describeRequest("c1"));
  // The two versions differ only in a response header, so every reply tells
  // which listener config served it.
  auto config = [&](const std::string& version) {
    ConfigSpec spec = httpConfig(R"(
      route_config:
        response_headers_to_add: [{name: x-config, value: )" + version + R"(}]
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
              - match: {prefix: /}
                route: {cluster: c1}
    )", {cluster("c1", {up.port()})});
    spec.drain_timeout = "1500ms";
    return renderConfig(spec);
  };
  ProxyProcess proxy(config("v1"));
  uint16_t old_port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &old_port));
  RawHttpClient old_conn(old_port);
  ASSERT_TRUE(old_conn.connected());
  HttpReply r = old_conn.roundTrip(getRequest("/before"));
  ASSERT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(r.header("x-config"), "v1") << r.describe();

  proxy.writeConfig(config("v2"));
  const auto reloaded = Clock::now();
  HttpResponse rr = proxy.post("/reload");
  ASSERT_EQ(rr.status, 200) << rr.error << rr.body;
  auto new_port = proxy.listenerPort("web");
  ASSERT_TRUE(new_port) << proxy.get("/listeners").body;
  // Bound to port 0, the changed listener got a socket of its own.
  ASSERT_NE(*new_port, old_port);

  // New connections get the new config.
  RawHttpClient new_conn(*new_port);
  ASSERT_TRUE(new_conn.connected());
  r = new_conn.roundTrip(getRequest("/new"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-config"), "v2") << r.describe();

  // The live connection keeps its listener's (old) config.
  r = old_conn.roundTrip(getRequest("/during"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-config"), "v1") << r.describe();

  // The old socket stops accepting.
  int last_err = 0;
  bool refused = waitUntil(
      [&] {
        Fd probe = connectLoopback(old_port, 500ms, &last_err);
        return !probe && last_err == ECONNREFUSED;
      },
      1000ms);
  EXPECT_TRUE(refused) << "the old listener still accepts after the reload (last connect: "
                       << (last_err ? std::strerror(last_err) : "succeeded") << ")";

  // Well into the drain the old connection still serves requests.
  std::this_thread::sleep_until(reloaded + 900ms);
  r = old_conn.roundTrip(getRequest("/late"));
  EXPECT_EQ(r.status, 200) << r.describe() << " (" << msSince(reloaded) << " ms after the reload)";
  EXPECT_EQ(r.header("x-config"), "v1") << r.describe();

  // drain_timeout (1.5 s) ends it.
  std::string extra;
  EXPECT_TRUE(old_conn.waitClosed(4000ms, &extra)) << "old connection still open " << msSince(reloaded)
                                                    << " ms after the reload; extra bytes: " << extra;
  const long long closed_ms = msSince(reloaded);
  EXPECT_GE(closed_ms, 1300) << "closed before drain_timeout (1500ms)";
  EXPECT_LE(closed_ms, 3500) << "closed long after drain_timeout (1500ms)";
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_drain_closed_total", {{"listener", "web"}}), 1);

  // The new listener's connection is not part of that drain.
  r = new_conn.roundTrip(getRequest("/after"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-config"), "v2") << r.describe();
  EXPECT_EQ(proxy.metric(kReloads, kOk).value_or(0), 1);
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
  EXPECT_NE(r.body.find(where), std::string::npos)
      << "error should name " << where << "; body:\n" << r.body;
  EXPECT_NE(r.body.find("no_such_field"), std::string::npos) << r.body;
  EXPECT_TRUE(proxy.waitMetricEq(kReloads, kFailed, 2));
  EXPECT_EQ(proxy.metric(kReloads, kOk).value_or(0), 0);
  EXPECT_EQ(proxy.listeners().count("l2"), 0u);
  EXPECT_EQ(echoRoundTrip(old_conn.get(), "after POST"), "");
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace sluice::itest
