// Routes are resources held by name: a reload that changes only routes
// reaches live keep-alive connections at their next request, with no
// listener rebound, no drain and no connection closed; and a route table
// can be defined once at the top level and named by listeners.

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "tests/integration/support/command.h"
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

TEST(ReloadRoutes, RouteOnlyChangeUnderLoadClosesNothingAndFailsNothing) {
  HttpUpstream c1(describeRequest("c1"));
  HttpUpstream c2(describeRequest("c2"));
  const std::vector<ClusterSpec> clusters = {cluster("c1", {c1.port()}), cluster("c2", {c2.port()})};
  ProxyProcess proxy(renderConfig(httpConfig(routeAllTo("c1"), clusters)));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  KeepAliveLoad load(port, kClients, /*reconnect=*/true, "c2 ", 10s);
  ASSERT_TRUE(waitUntil([&] { return load.okSoFar() > 500; }, 5s)) << "the load never got going";
  proxy.writeConfig(renderConfig(httpConfig(routeAllTo("c2"), clusters)));
  HttpResponse reload = proxy.post("/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  // The same connections see the new route.
  const bool switched = waitUntil([&] { return load.newSoFar() > 500; }, 5s);
  load.stop();
  const auto t = load.totals();

  EXPECT_TRUE(switched) << "live connections never saw the new route (" << t.by_body_prefix_new << " responses)";
  EXPECT_EQ(t.cut, 0u) << "requests failed across a route-only reload; first: " << t.first_cut;
  EXPECT_EQ(t.told_to_close, 0u) << "a route-only reload must not drain the listener";
  EXPECT_EQ(t.connects, static_cast<uint64_t>(kClients)) << "clients had to reconnect";
  EXPECT_EQ(proxy.listenerPort("web"), port) << "the listener was rebound";
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_total", kWeb), kClients);
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_cx_drain_closed_total", kWeb), 0);
}

TEST(ReloadRoutes, ListenersNameATopLevelRouteConfig) {
  HttpUpstream c1(describeRequest("c1"));
  HttpUpstream c2(describeRequest("c2"));
  auto configWith = [&](const std::string& cluster) {
    ConfigSpec spec = httpConfig("route_config_name: shared\n", {});
    ListenerSpec second = spec.listeners[0];
    second.name = "web2";
    spec.listeners.push_back(second);
    spec.clusters = {::sluice::itest::cluster("c1", {c1.port()}), ::sluice::itest::cluster("c2", {c2.port()})};
    std::string yaml = renderConfig(spec);
    yaml += dedent(R"(
        route_configs:
          - name: shared
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - name: everything
                    match: {prefix: /}
                    route: {cluster: )" +
                   cluster + "}\n");
    return yaml;
  };
  ProxyProcess proxy(configWith("c1"));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  auto port2 = proxy.waitListener("web2");
  ASSERT_TRUE(port2);
  EXPECT_EQ(curl({localUrl(port, "/a")}).body, "c1 GET /a\n");
  EXPECT_EQ(curl({localUrl(*port2, "/b")}).body, "c1 GET /b\n");
  // Both listeners' requests count under the one table's route.
  EXPECT_TRUE(proxy.waitMetricEq("sluice_route_rq_total", {{"route_config", "shared"}, {"route", "everything"}}, 2));

  // One edit of the shared table moves both listeners, neither rebound.
  proxy.writeConfig(configWith("c2"));
  HttpResponse reload = proxy.post("/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(curl({localUrl(port, "/a")}).body, "c2 GET /a\n");
  EXPECT_EQ(curl({localUrl(*port2, "/b")}).body, "c2 GET /b\n");
  EXPECT_EQ(proxy.listenerPort("web"), port);
  EXPECT_EQ(proxy.listenerPort("web2"), port2);
}

}  // namespace
}  // namespace sluice::itest
