// Shutdown through the real binary: SIGTERM drains (listeners closed,
// in-flight transfers finish, bounded by drain_timeout, exit 0); SIGINT
// exits at once.

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <thread>

#include "tests/integration/support/config.h"
#include "tests/integration/support/command.h"
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
constexpr uint64_t kMB = 1024 * 1024;

TEST(Drain, SigtermLetsInFlightTransferFinish) {
  constexpr uint64_t kLen = 50 * kMB;
  constexpr uint64_t kSeed = 44;
  auto log = std::make_shared<StreamLog>();
  TestServer source(streamHandler(log, kSeed, kLen));
  ProxyProcess proxy(renderConfig(simpleConfig({source.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  Fd client = connectLoopback(*port, 2s, nullptr, /*rcvbuf=*/256 * 1024);
  ASSERT_TRUE(client);
  StreamReader reader(client.get());
  while (reader.bytes() < kMB && reader.readOnce(64 * 1024, Deadline(5s)) > 0) {
  }
  ASSERT_GE(reader.bytes(), kMB) << reader.describe();

  ASSERT_TRUE(proxy.signal(SIGTERM));

  // New connections are refused once the listener is closed. A probe that
  // still gets in (before the signal was handled) is closed right away.
  int last_err = 0;
  bool refused = waitUntil(
      [&] {
        Fd probe = connectLoopback(*port, 500ms, &last_err);
        return !probe && last_err == ECONNREFUSED;
      },
      3s);
  EXPECT_TRUE(refused) << "listener still accepting 3 s after SIGTERM (last connect: "
                       << (last_err ? std::strerror(last_err) : "succeeded") << ")";

  HttpResponse ready = proxy.get("/ready");
  if (ready.ok()) {
    EXPECT_EQ(ready.status, 503) << "draining proxy answered /ready with " << ready.body;
    EXPECT_EQ(ready.body, "DRAINING\n");
    auto draining = proxy.metric("sluice_server_draining");
    if (draining) {
      EXPECT_EQ(*draining, 1);
    }
  }
  EXPECT_TRUE(proxy.running()) << "exited with a transfer in flight";

  // The transfer finishes intact, still read slowly-ish.
  bool eof = reader.readToEof(Deadline(30s), 128 * 1024, std::chrono::microseconds(1000));
  EXPECT_TRUE(eof) << reader.describe();
  EXPECT_EQ(reader.bytes(), kLen) << reader.describe();
  EXPECT_EQ(reader.checksum(), patternChecksum(kSeed, kLen)) << "stream corrupted";
  EXPECT_TRUE(proxy.running()) << "exited before the client finished its half of the connection";

  // Our half-close ends the connection (the upstream closes on our EOF); the
  // drain then has nothing left to wait for.
  shutdownWrite(client.get());
  auto status = proxy.waitExit(5s);
  ASSERT_TRUE(status) << "still running 5 s after its last connection finished";
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
}

TEST(Drain, DrainTimeoutBoundsShutdownWithIdleConnection) {
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({echo.port()});
  spec.drain_timeout = "500ms";
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  ASSERT_EQ(echoRoundTrip(client.get(), "hello"), "");

  auto start = Clock::now();
  ASSERT_TRUE(proxy.signal(SIGTERM));
  ReadToClose r = readUntilClosed(client.get(), Deadline(3s));
  long long closed_ms = msSince(start);
  auto status = proxy.waitExit(3s);
  long long exit_ms = msSince(start);

  EXPECT_NE(r.how, CloseKind::kTimeout) << "connection still open 3 s after SIGTERM";
  ASSERT_TRUE(status) << "still running 3 s after SIGTERM with drain_timeout 500ms";
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
  EXPECT_LT(exit_ms, 2000) << "exited " << exit_ms << " ms after SIGTERM";
  EXPECT_GE(closed_ms, 300) << "the connection was closed after " << closed_ms
                            << " ms, without waiting for drain_timeout (500ms)";
}

TEST(Drain, SigintExitsPromptly) {
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({echo.port()});
  spec.drain_timeout = "10s";
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  // An open connection that a drain would wait 10 s for.
  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  ASSERT_EQ(echoRoundTrip(client.get(), "hello"), "");

  auto start = Clock::now();
  ASSERT_TRUE(proxy.signal(SIGINT));
  auto status = proxy.waitExit(5s);
  ASSERT_TRUE(status) << "still running 5 s after SIGINT";
  EXPECT_LT(msSince(start), 1500);
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
}

}  // namespace
}  // namespace sluice::itest

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// Shutting down with idle pooled upstream connections (HTTP) exits cleanly:
// the pools close their connections as the workers are destroyed.
TEST(Drain, SigtermWithPooledUpstreamConnectionsExitsZero) {
  HttpUpstream up(describeRequest("c1"));
  const std::string yaml = R"(
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
              - match: {prefix: /}
                route: {cluster: c1}
    )";
  ProxyProcess proxy(renderConfig(httpConfig(yaml, {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  for (int i = 0; i < 4; ++i) {
    CurlResult r = curl({localUrl(port, "/x")});
    ASSERT_EQ(r.status, 200) << r.describe();
  }
  ASSERT_TRUE(proxy.signal(SIGTERM));
  auto status = proxy.waitExit(5s);
  ASSERT_TRUE(status) << "still running 5 s after SIGTERM";
  EXPECT_TRUE(exitedWith(status, 0)) << describeWaitStatus(*status);
}

}  // namespace
}  // namespace sluice::itest
