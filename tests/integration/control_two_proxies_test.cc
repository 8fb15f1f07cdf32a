// sluice-control driving two sluice proxies of one group on loopback, both
// under keep-alive load the whole time: a new route, a weight change and an
// endpoint removal reach both proxies within a second; an edit with an
// error is refused by the control plane; a listener the proxies cannot
// bind is NACKed by them and shows as NACKED in `sluice-control status`
// while they go on serving; killing sluice-control and starting it again
// on the same port changes nothing the proxies serve. Not one request of
// the load may fail. Over state-of-the-world and delta xDS alike.
//
// Needs a sluice with an ADS client; skipped, saying so, when it has none.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/keepalive_load.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// One group for both proxies (matched on node.cluster): listener `web` on
// a port each proxy picks (port 0), routes by name, two clusters.
struct Mesh {
  std::string ads = "127.0.0.1:0";
  std::string canary_route;  // an extra route before "/", or ""
  std::string root_action = "{cluster: backend}";
  std::vector<std::string> backend;  // endpoint addresses
  std::string canary;
  std::string extra_listener;  // one more listener, or ""
  std::string extra_route_config;  // one more route table, or ""

  std::string yaml() const {
    std::string y = "ads: {address: " + ads +
                    "}\n"
                    "admin: {address: 127.0.0.1:0}\n"
                    "debounce: 20ms\n"
                    "watch_interval: 50ms\n"
                    "groups:\n"
                    "  - name: edge\n"
                    "    match: {cluster: edge}\n"
                    "    listeners:\n"
                    "      - name: web\n"
                    "        address: 127.0.0.1:0\n"
                    "        http: {route_config_name: main}\n" +
                    extra_listener +
                    "    route_configs:\n"
                    "      - name: main\n"
                    "        virtual_hosts:\n"
                    "          - name: all\n"
                    "            domains: [\"*\"]\n"
                    "            routes:\n" +
                    canary_route +
                    "              - match: {prefix: /}\n"
                    "                route: " +
                    root_action +
                    "\n" + extra_route_config +
                    "    clusters:\n"
                    "      - name: backend\n"
                    "        connect_timeout: 1s\n"
                    "        endpoints:\n";
    for (const auto& a : backend) y += "          - address: " + a + "\n";
    y += "      - name: canary\n"
         "        connect_timeout: 1s\n"
         "        endpoints:\n"
         "          - address: " +
         canary + "\n";
    return y;
  }
};

std::string bootstrap(const std::string& ads, const std::string& id, bool delta) {
  return "admin:\n  address: 127.0.0.1:0\nworkers: 2\ndynamic:\n  ads:\n    address: " + ads + "\n    node: {id: " + id +
         ", cluster: edge}\n    delta: " + (delta ? "true" : "false") + "\n";
}

// The rows of `sluice-control status` for `node`, one per type.
std::vector<std::string> statusRows(const ControlDaemonProcess& daemon, const std::string& node) {
  const CommandResult st = runCommand({SLUICE_CONTROL_BIN, "status", "--admin", daemon.adminAddress()}, 10s);
  std::vector<std::string> rows;
  std::istringstream in(st.out);
  for (std::string row; std::getline(in, row);)
    if (row.rfind(node + " ", 0) == 0) rows.push_back(row);
  return rows;
}

size_t rowsWith(const std::vector<std::string>& rows, const std::string& what) {
  size_t n = 0;
  for (const auto& r : rows) n += r.find(what) != std::string::npos;
  return n;
}

std::string joined(const std::vector<std::string>& rows) {
  std::string out;
  for (const auto& r : rows) out += r + "\n";
  return out;
}

// How soon an edit must be served by both proxies: within a second, on a
// Release build; sanitizer builds of the proxy (ASan here, or another
// binary under test, as the TSan run's) are several times slower.
// A bound that catches a stuck push (a 10 s initial_fetch_timeout, a lost
// nonce) without timing the machine: the sub-second figure itself is the
// benchmark's (bench/run.sh xds), not a test's, since a loaded 2-core CI
// host can take longer.
Millis propagationBound() {
#if defined(__SANITIZE_ADDRESS__)
  return 5000ms;
#else
  return std::getenv("SLUICE_TEST_BIN") ? 5000ms : 3000ms;
#endif
}

// The parameter: the proxies' xDS flavour, delta or not.
class ControlTwoProxies : public ::testing::TestWithParam<bool> {
 protected:
  // Waits until every proxy answers `path` with `body` `in_a_row` times
  // running; the time it took, or nullopt after `timeout`.
  std::optional<Millis> timeUntilAll(const std::string& path, const std::string& body, int in_a_row = 4,
                                     Millis timeout = 5000ms) {
    const auto start = Clock::now();
    for (uint16_t port : ports_) {
      int run = 0;
      const bool ok = waitUntil(
          [&] {
            run = curl({localUrl(port, path)}, 2000ms).body == body ? run + 1 : 0;
            return run >= in_a_row;
          },
          timeout);
      if (!ok) return std::nullopt;
    }
    return std::chrono::duration_cast<Millis>(Clock::now() - start);
  }

  void edit(ControlDaemonProcess& daemon) { daemon.writeConfig(mesh_.yaml()); }

  Mesh mesh_;
  std::vector<uint16_t> ports_;
};

TEST_P(ControlTwoProxies, EditsReachBothUnderLoadAndNothingFails) {
  ControlledUpstream b1("b1"), b2("b2"), c1("c1");
  mesh_.backend = {b1.address(), b2.address()};
  mesh_.canary = c1.address();
  auto daemon = std::make_unique<ControlDaemonProcess>(mesh_.yaml());
  ASSERT_TRUE(daemon->start());
  const std::string ads = daemon->adsAddress();
  {
    TempDir dir;
    const CommandResult v = runSluice({"validate", "-c", dir.write("bootstrap.yaml", bootstrap(ads, "edge-1", GetParam()))});
    if (v.err.find("unknown field 'dynamic'") != std::string::npos)
      GTEST_SKIP() << "this sluice has no ADS client (the bootstrap's dynamic: block)";
    ASSERT_TRUE(exitedWith(v.status, 0)) << v.err;
  }
  ProxyProcess p1(bootstrap(ads, "edge-1", GetParam())), p2(bootstrap(ads, "edge-2", GetParam()));
  ASSERT_TRUE(p1.start());
  ASSERT_TRUE(p2.start());
  for (ProxyProcess* p : {&p1, &p2}) {
    const auto port = p->waitListener("web", 10s);
    ASSERT_TRUE(port) << "the listener from sluice-control never came";
    ports_.push_back(*port);
  }
  ASSERT_TRUE(timeUntilAll("/", "b1\n", 1)) << "the proxies never served the group";

  // Two keep-alive clients per proxy from here to the end.
  std::vector<std::unique_ptr<KeepAliveLoad>> load;
  for (uint16_t port : ports_) load.push_back(std::make_unique<KeepAliveLoad>(port, 2, true, "", 60s));

  // (a) A new route.
  mesh_.canary_route =
      "              - match: {prefix: /canary}\n"
      "                route: {cluster: canary}\n";
  edit(*daemon);
  auto took = timeUntilAll("/canary", "c1\n");
  ASSERT_TRUE(took) << "the new route never reached both proxies";
  EXPECT_LT(*took, propagationBound()) << "a route took " << took->count() << " ms to reach both proxies";

  // (b) Weights: everything under / to the canary.
  mesh_.root_action = "{weighted_clusters: [{name: backend, weight: 0}, {name: canary, weight: 100}]}";
  edit(*daemon);
  took = timeUntilAll("/", "c1\n");
  ASSERT_TRUE(took) << "the weight change never reached both proxies";
  EXPECT_LT(*took, propagationBound()) << "a weight change took " << took->count() << " ms";

  // (c) Back to the backend, without b2: b2 gets no new request.
  mesh_.root_action = "{cluster: backend}";
  mesh_.backend = {b1.address()};
  edit(*daemon);
  took = timeUntilAll("/", "b1\n", 6);
  ASSERT_TRUE(took) << "the endpoint removal never reached both proxies";
  EXPECT_LT(*took, propagationBound()) << "an endpoint removal took " << took->count() << " ms";
  const uint64_t b2_served = b2.served();
  for (uint16_t port : ports_)
    for (int i = 0; i < 10; ++i) EXPECT_EQ(curl({localUrl(port, "/")}, 2000ms).body, "b1\n");
  EXPECT_EQ(b2.served(), b2_served) << "a removed endpoint still got requests";

  // (d) An edit with an error: refused whole, the last good one serves.
  const double rejected = daemon->metric("sluice_control_config_rejections_total").value_or(0);
  daemon->writeConfig(mesh_.yaml() + "    bogus_field: 1\n");
  EXPECT_TRUE(daemon->waitMetricEq("sluice_control_config_rejections_total", {}, rejected + 1));
  EXPECT_TRUE(timeUntilAll("/canary", "c1\n", 2));

  // (e) A listener the proxies cannot take (an address not on this host):
  // both NACK it and go on with what they had.
  mesh_.extra_listener =
      "      - name: elsewhere\n"
      "        address: 192.0.2.1:8080\n"
      "        http: {route_config_name: main}\n";
  edit(*daemon);
  std::vector<std::string> rows;
  for (const std::string node : {"edge-1", "edge-2"}) {
    EXPECT_TRUE(waitUntil(
        [&] {
          rows = statusRows(*daemon, node);
          return rowsWith(rows, "NACKED") == 1;
        },
        5000ms))
        << node << ":\n"
        << joined(rows);
    EXPECT_EQ(rowsWith(rows, "NACKED"), 1u) << joined(rows);
    EXPECT_NE(joined(rows).find("Listener 'elsewhere': address: bind 192.0.2.1:8080"), std::string::npos)
        << "the NACK should name the listener and say why:\n"
        << joined(rows);
  }
  EXPECT_TRUE(timeUntilAll("/canary", "c1\n", 2));
  mesh_.extra_listener.clear();
  edit(*daemon);
  for (const std::string node : {"edge-1", "edge-2"})
    EXPECT_TRUE(waitUntil([&] { return rowsWith(rows = statusRows(*daemon, node), "SYNCED") == 4; }, 5000ms))
        << joined(rows);

  // (f) A new listener with a route table of its own: the proxies ask for
  // the table they have not seen and serve both once it comes.
  mesh_.extra_listener =
      "      - name: second\n"
      "        address: 127.0.0.1:0\n"
      "        http: {route_config_name: second}\n";
  mesh_.extra_route_config =
      "      - name: second\n"
      "        virtual_hosts:\n"
      "          - name: all\n"
      "            domains: [\"*\"]\n"
      "            routes:\n"
      "              - match: {prefix: /}\n"
      "                route: {cluster: canary}\n";
  const auto added = Clock::now();
  edit(*daemon);
  for (ProxyProcess* p : {&p1, &p2}) {
    const auto port = p->waitListener("second", 10s);
    ASSERT_TRUE(port) << "the new listener never came";
    EXPECT_EQ(curl({localUrl(*port, "/")}, 2000ms).body, "c1\n");
  }
  const auto took_listener = std::chrono::duration_cast<Millis>(Clock::now() - added);
  EXPECT_LT(took_listener, propagationBound()) << "a new listener took " << took_listener.count() << " ms";
  for (const std::string node : {"edge-1", "edge-2"})
    EXPECT_TRUE(waitUntil([&] { return rowsWith(rows = statusRows(*daemon, node), "SYNCED") == 4; }, 5000ms))
        << joined(rows);

  // (g) sluice-control killed, and started again on the same port.
  ASSERT_TRUE(daemon->signal(SIGKILL));
  daemon->waitExit(5000ms);
  std::this_thread::sleep_for(500ms);  // the proxies see the stream go and serve on
  EXPECT_TRUE(timeUntilAll("/canary", "c1\n", 2));
  mesh_.ads = ads;
  daemon = std::make_unique<ControlDaemonProcess>(mesh_.yaml());
  ASSERT_TRUE(daemon->start());
  for (const std::string node : {"edge-1", "edge-2"})
    EXPECT_TRUE(waitUntil([&] { return rowsWith(rows = statusRows(*daemon, node), "SYNCED") == 4; }, 10000ms))
        << node << " did not come back:\n"
        << joined(rows);
  // And it drives them again.
  mesh_.canary_route.clear();
  edit(*daemon);
  EXPECT_TRUE(timeUntilAll("/canary", "b1\n"));

  for (size_t i = 0; i < load.size(); ++i) {
    load[i]->stop();
    const auto t = load[i]->totals();
    EXPECT_EQ(t.cut, 0u) << "proxy " << i + 1 << ": " << t.first_cut;
    EXPECT_GT(t.ok, 100u) << "proxy " << i + 1 << " served little load";
  }
}

INSTANTIATE_TEST_SUITE_P(Flavours, ControlTwoProxies, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Delta" : "StateOfTheWorld"; });

}  // namespace
}  // namespace sluice::itest
