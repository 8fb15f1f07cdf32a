// Load-balancing policies through the real binary with two workers: least
// request steers away from a slow host, ring_hash and maglev keep a user on
// one host whichever worker serves it (and only an unhealthy host's users
// move), weighted random follows the weights; and `sluice validate` names
// file:line:col and the field path of a bad cluster.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

TEST(UpstreamLb, LeastRequestSendsMarkedlyFewerRequestsToASlowHost) {
  ControlledUpstream a("a"), b("b"), c("c"), slow("slow");
  slow.setDelay(200ms);
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1"), R"(
    - name: c1
      connect_timeout: 1s
      lb_policy: least_request
      endpoints: )" + endpointsFlow({a.port(), b.port(), c.port(), slow.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  EXPECT_EQ(proxy.get("/clusters").body.find("c1::lb_policy::least_request\n") != std::string::npos, true);

  const Tally t = sendRequests(port, 400, 8);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  const size_t fewest_fast = std::min({t.to("a"), t.to("b"), t.to("c")});
  // Round robin would give each host 100.
  EXPECT_LT(t.to("slow") * 2, fewest_fast) << t.describe();
  EXPECT_LT(t.to("slow"), 60u) << t.describe();
}

// ring_hash and maglev with hash_policy on the x-user header.
class UpstreamHashLb : public ::testing::TestWithParam<std::string> {
 protected:
  // Cluster c1 with the policy under test over `ports`; `extra` is one more
  // cluster line (or none).
  static std::string hashCluster(const std::vector<uint16_t>& ports, const std::string& extra = "") {
    return R"(
    - name: c1
      connect_timeout: 1s
      lb_policy: )" + GetParam() + R"(
      hash_policy: [{header: x-user}]
      )" + extra + R"(
      endpoints: )" + endpointsFlow(ports);
  }
};

TEST_P(UpstreamHashLb, SameUserAlwaysLandsOnTheSameHostAndUsersSpreadOverAll) {
  ControlledUpstream a("a"), b("b"), c("c"), d("d");
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1"), hashCluster({a.port(), b.port(), c.port(), d.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // 200 users, 3 requests each, over 6 connections (both workers).
  constexpr size_t kUsers = 200;
  auto user = [](size_t i) { return "user-" + std::to_string(i % kUsers); };
  const Tally t = sendRequests(port, 3 * kUsers, 6, "/", [&](size_t i) { return HeaderList{{"x-user", user(i)}}; });
  ASSERT_EQ(t.errors(), 0u) << t.describe();
  // The tally loses which request was which; ask again, one user at a time,
  // on fresh connections, and compare with a first answer per user.
  std::map<std::string, size_t> users_per_host;
  size_t moved = 0;
  for (size_t i = 0; i < kUsers; ++i) {
    const Tally u = sendRequests(port, 3, 3, "/", [&](size_t) { return HeaderList{{"x-user", user(i)}}; });
    ASSERT_EQ(u.errors(), 0u) << u.describe();
    const auto hosts = u.byUpstream();
    moved += hosts.size() != 1;
    ++users_per_host[hosts.begin()->first];
  }
  EXPECT_EQ(moved, 0u) << "users answered by more than one host";
  ASSERT_EQ(users_per_host.size(), 4u) << "200 users should reach all 4 hosts";
  for (const auto& [host, n] : users_per_host) EXPECT_GE(n, 15u) << host << " got few users";
  // The first round agrees with the second: per host, 3 requests per user homed there.
  for (const auto& [host, n] : users_per_host) EXPECT_EQ(t.to(host), 3 * n) << host << ": " << t.describe();
}

// A host that fails its health check leaves the ring/table: its users move,
// and (ring_hash exactly, maglev nearly) nobody else's.
TEST_P(UpstreamHashLb, OnlyTheUsersOfAnUnhealthyHostMove) {
  ControlledUpstream a("a"), b("b"), c("c"), d("d");
  ProxyProcess proxy(upstreamConfig(
      routeAllTo("c1"),
      hashCluster({a.port(), b.port(), c.port(), d.port()},
                  "health_check: {interval: 200ms, timeout: 1s, unhealthy_threshold: 1, http: {path: /healthz}}")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  constexpr size_t kUsers = 200;
  std::vector<std::string> users;
  for (size_t i = 0; i < kUsers; ++i) users.push_back("user-" + std::to_string(i));
  auto homes = [&] {
    std::vector<std::string> out;
    for (size_t i = 0; i < kUsers; ++i) {
      const Tally u = sendRequests(port, 1, 1, "/", [&](size_t) { return HeaderList{{"x-user", users[i]}}; });
      out.push_back(u.errors() == 0 ? u.outcomes[0].upstream : "error");
    }
    return out;
  };
  const auto before = homes();
  b.setHealthStatus(500);
  ASSERT_TRUE(waitClusterField(
      proxy, "c1", b.address(), "health_flags",
      [](const std::string& v) { return v.find("/failed_active_hc") != std::string::npos; }, "/failed_active_hc"));
  const auto after = homes();
  size_t others = 0, others_kept = 0, b_users = 0;
  for (size_t i = 0; i < kUsers; ++i) {
    EXPECT_NE(after[i], "error") << "user " << i;
    EXPECT_NE(after[i], "b") << "user " << i << " still sent to the unhealthy host";
    if (before[i] == "b") {
      ++b_users;
      continue;
    }
    ++others;
    others_kept += after[i] == before[i];
  }
  EXPECT_GE(b_users, 15u);
  if (GetParam() == "ring_hash") {
    EXPECT_EQ(others_kept, others) << "ring_hash moved users of healthy hosts";
  } else {
    EXPECT_GE(others_kept * 100, others * 90) << "maglev moved many users of healthy hosts: kept " << others_kept
                                               << " of " << others;
  }
}

// A route's own hash_policy (as Envoy's route-level one) wins over its
// cluster's: on /by-session the key is x-session, elsewhere x-user.
TEST_P(UpstreamHashLb, ARoutesOwnPolicyWinsOverTheClusters) {
  ControlledUpstream a("a"), b("b"), c("c"), d("d");
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/by-session", "{cluster: c1, hash_policy: [{header: X-Session}]}"}, {"/", "{cluster: c1}"}}),
      hashCluster({a.port(), b.port(), c.port(), d.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  // One session, 100 users: one host on /by-session, several on /.
  auto headers = [](size_t i) { return HeaderList{{"x-session", "s-1"}, {"x-user", "user-" + std::to_string(i)}}; };
  const Tally by_session = sendRequests(port, 100, 4, "/by-session", headers);
  ASSERT_EQ(by_session.errors(), 0u) << by_session.describe();
  EXPECT_EQ(by_session.byUpstream().size(), 1u) << "one session went to several hosts: " << by_session.describe();
  const Tally by_user = sendRequests(port, 100, 4, "/", headers);
  ASSERT_EQ(by_user.errors(), 0u) << by_user.describe();
  EXPECT_GE(by_user.byUpstream().size(), 3u) << "100 users should spread: " << by_user.describe();
  // And the route's key works across sessions too: sessions spread.
  const Tally sessions = sendRequests(port, 100, 4, "/by-session", [](size_t i) {
    return HeaderList{{"x-session", "s-" + std::to_string(i)}, {"x-user", "one"}};
  });
  ASSERT_EQ(sessions.errors(), 0u) << sessions.describe();
  EXPECT_GE(sessions.byUpstream().size(), 3u) << sessions.describe();
}

INSTANTIATE_TEST_SUITE_P(Policies, UpstreamHashLb, ::testing::Values("ring_hash", "maglev"));

TEST(UpstreamLb, WeightedRandomFollowsTheWeights) {
  ControlledUpstream light("light"), heavy("heavy");
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1"), R"(
    - name: c1
      connect_timeout: 1s
      lb_policy: random
      endpoints: )" + weightedEndpoints({{light.port(), 1, 0}, {heavy.port(), 3, 0}})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  const Tally t = sendRequests(port, 4000, 8);
  ASSERT_EQ(t.errors(), 0u) << t.describe();
  // Expect 3000 (sd ~27): +-120 is about 4.4 sd.
  EXPECT_GT(t.to("heavy"), 2880u) << t.describe();
  EXPECT_LT(t.to("heavy"), 3120u) << t.describe();
  EXPECT_EQ(t.to("heavy") + t.to("light"), 4000u);
}

// ---- sluice validate ----

std::vector<std::string> errorLines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

// Column (1-based) of `needle` on line `line` of `text`; 0 when absent.
int columnOf(const std::string& text, int line, const std::string& needle) {
  std::istringstream in(text);
  std::string l;
  for (int n = 1; std::getline(in, l); ++n)
    if (n == line) return l.find(needle) == std::string::npos ? 0 : static_cast<int>(l.find(needle)) + 1;
  return 0;
}

struct BadCluster {
  std::string name;
  std::string cluster_lines;  // inside the cluster mapping, 4 spaces in
  std::string bad_key;        // the line holding the error
  std::string path;           // clusters[0]....
  std::string message;        // part of the message
  std::string at;             // where the column may also point (a value inside the line)
};

void PrintTo(const BadCluster& b, std::ostream* os) { *os << b.name; }

class UpstreamConfigErrors : public ::testing::TestWithParam<BadCluster> {};

TEST_P(UpstreamConfigErrors, ValidateNamesFileLineColumnAndPath) {
  const BadCluster& p = GetParam();
  const std::string yaml = "admin: {address: 127.0.0.1:0}\n"
                           "listeners:\n"
                           "  - name: l1\n"
                           "    address: 127.0.0.1:0\n"
                           "    tcp_proxy: {cluster: c1}\n"
                           "clusters:\n"
                           "  - name: c1\n" +
                           p.cluster_lines +
                           "    endpoints: [{address: 127.0.0.1:18081}, {address: 127.0.0.1:18082}]\n";
  TempDir dir;
  const std::string file = dir.write("bad.yaml", yaml);
  CommandResult r = runSluice({"validate", "-c", file});
  EXPECT_TRUE(exitedWith(r.status, 1)) << r.out << r.err;
  const int line = lineOf(yaml, p.bad_key + ":");
  ASSERT_GT(line, 0);
  const auto errors = errorLines(r.err, file + ":" + std::to_string(line) + ":");
  ASSERT_EQ(errors.size(), 1u) << "expected one error on line " << line << "\n" << yaml << r.err;
  const int key_col = columnOf(yaml, line, p.bad_key + ":");
  const int value_col = key_col + static_cast<int>(p.bad_key.size()) + 2;
  const std::string at_key = file + ":" + std::to_string(line) + ":" + std::to_string(key_col) + ": ";
  const std::string at_value = file + ":" + std::to_string(line) + ":" + std::to_string(value_col) + ": ";
  std::string at_other = "-";
  if (!p.at.empty())
    at_other = file + ":" + std::to_string(line) + ":" + std::to_string(columnOf(yaml, line, p.at)) + ": ";
  EXPECT_TRUE(errors[0].rfind(at_key + p.path + ": ", 0) == 0 || errors[0].rfind(at_value + p.path + ": ", 0) == 0 ||
              errors[0].rfind(at_other + p.path + ": ", 0) == 0)
      << "want " << at_key << p.path << ": ... (or the value's column); got " << errors[0];
  EXPECT_NE(errors[0].find(p.message), std::string::npos) << errors[0];
  EXPECT_EQ(r.out.find(": ok"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UpstreamConfigErrors,
    ::testing::Values(
        BadCluster{"HashPolicyWithRoundRobin", "    lb_policy: round_robin\n    hash_policy: [{header: x-user}]\n",
                   "hash_policy", "clusters[0].hash_policy", "ring_hash or maglev", ""},
        BadCluster{"MaglevTableSizeNotPrime", "    lb_policy: maglev\n    maglev: {table_size: 1000}\n",
                   "table_size", "clusters[0].maglev.table_size", "prime", ""},
        BadCluster{"UnknownLbPolicy", "    lb_policy: least_connections\n", "lb_policy", "clusters[0].lb_policy",
                   "least_connections", ""},
        BadCluster{"MaxEjectionTimeBelowBase",
                   "    outlier_detection:\n      base_ejection_time: 30s\n      max_ejection_time: 10s\n",
                   "max_ejection_time", "clusters[0].outlier_detection.max_ejection_time", "base_ejection_time", ""},
        BadCluster{"BadExpectedStatus",
                   "    health_check:\n      http: {path: /healthz, expected_statuses: [\"200-2x9\"]}\n", "http",
                   "clusters[0].health_check.http.expected_statuses[0]", "range", "\"200-2x9\""}),
    [](const ::testing::TestParamInfo<BadCluster>& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::itest
