// Access-log rotation as logrotate does it: the file is renamed under a
// proxy serving keep-alive load, then SIGUSR1 (or POST /logs/reopen) makes
// the proxy open the path again. Every answered request has exactly one
// line, in the old file or the new, and no line is torn.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <thread>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/keepalive_load.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// Waits until the logs together hold `n` lines, then checks each is a JSON object.
void expectEveryRequestLoggedOnce(const std::vector<std::string>& paths, uint64_t n) {
  const auto deadline = Clock::now() + 10s;
  size_t total = 0;
  for (;;) {
    total = 0;
    for (const auto& p : paths) total += readLines(p).size();
    if (total >= n || Clock::now() > deadline) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(total, n) << "lines across the rotated files vs answered requests";
  for (const auto& p : paths) {
    const JsonLines j = waitJsonLines(p, 0);
    EXPECT_TRUE(j.bad.empty()) << p << ": " << j.bad.size() << " torn or bad lines, first: "
                               << (j.bad.empty() ? "" : j.bad[0]);
  }
}

TEST(AccessLogReopen, RotationUnderLoadLosesAndTearsNoLine) {
  HttpUpstream up(byPathPrefix({}, describeRequest("c1")));
  TempDir logs;
  const std::string log = logs.path() + "/access.json";
  ProxyProcess proxy(renderConfig(httpConfig(routeAllTo("c1", log), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  KeepAliveLoad load(port, 4, /*reconnect=*/true, "", Millis(20000));
  auto waitFor = [&](uint64_t n) {
    const auto deadline = Clock::now() + 10s;
    while (load.okSoFar() < n && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    ASSERT_GE(load.okSoFar(), n) << "the load did not get going";
  };

  waitFor(500);
  ASSERT_EQ(std::rename(log.c_str(), (log + ".1").c_str()), 0);
  ASSERT_TRUE(proxy.signal(SIGUSR1));
  waitFor(load.okSoFar() + 500);
  ASSERT_EQ(std::rename(log.c_str(), (log + ".2").c_str()), 0);
  const HttpResponse r = proxy.post("/logs/reopen");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("1 access log(s) reopened"), std::string::npos) << r.body;
  waitFor(load.okSoFar() + 500);
  load.stop();
  const auto t = load.totals();
  EXPECT_EQ(t.cut, 0u) << t.first_cut;

  // The new files exist, so each reopen took effect and later lines moved on.
  EXPECT_FALSE(readLines(log + ".2").empty());
  EXPECT_FALSE(readLines(log).empty());
  expectEveryRequestLoggedOnce({log + ".1", log + ".2", log}, t.ok);
}

TEST(AccessLogReopen, UnwritablePathKeepsTheOldFileAndSaysWhy) {
  HttpUpstream up(byPathPrefix({}, describeRequest("c1")));
  TempDir logs;
  const std::string dir = logs.path() + "/sub";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  const std::string log = dir + "/access.json";
  ProxyProcess proxy(renderConfig(httpConfig(routeAllTo("c1", log), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  ASSERT_EQ(curl({localUrl(port, "/first")}).status, 200);
  ASSERT_EQ(waitLines(log, 1).size(), 1u);
  // The directory goes away: the path cannot be opened again.
  ASSERT_EQ(std::rename(dir.c_str(), (dir + ".old").c_str()), 0);
  const HttpResponse r = proxy.post("/logs/reopen");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("cannot open " + log), std::string::npos) << r.body;
  // Requests are still logged, to the file the proxy already had open.
  KeepAliveLoad load(port, 1, /*reconnect=*/true, "", Millis(5000));
  const auto deadline = Clock::now() + 5s;
  while (load.okSoFar() < 50 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  load.stop();
  expectEveryRequestLoggedOnce({dir + ".old/access.json"}, load.totals().ok + 1);
}

}  // namespace
}  // namespace sluice::itest
