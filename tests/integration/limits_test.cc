// Resource limits through the real binary: backpressure keeps memory bounded
// under a slow reader, max_connections sheds excess connections, and
// idle_timeout closes idle ones (and only idle ones).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/support/config.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMB = 1024 * 1024;

TEST(Limits, SlowReaderKeepsProxyMemoryBounded) {
  constexpr uint64_t kLen = 200 * kMB;
  constexpr uint64_t kSeed = 33;
  auto log = std::make_shared<StreamLog>();
  TestServer source(streamHandler(log, kSeed, kLen, /*send_buffer=*/1 << 20));
  ProxyProcess proxy(renderConfig(simpleConfig({source.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  auto baseline = proxy.rssKb();
  ASSERT_TRUE(baseline) << "no VmRSS for pid " << proxy.pid();

  std::atomic<long> peak{*baseline};
  std::jthread sampler([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (auto rss = proxy.rssKb()) peak.store(std::max(peak.load(), *rss));
      std::this_thread::sleep_for(10ms);
    }
  });

  // A fixed, small receive buffer: what the kernel may hold for the client
  // stays small, so what the upstream managed to send is what the proxy
  // buffered or refused to read.
  Fd client = connectLoopback(*port, 2s, nullptr, /*rcvbuf=*/256 * 1024);
  ASSERT_TRUE(client);

  // The scenario: the client reads nothing for 2 s while the upstream pushes.
  std::this_thread::sleep_for(2s);
  uint64_t sent_while_paused = log->sent.load();

  // Then a slow reader (~16 MB/s) for a second, then full speed to the end.
  StreamReader reader(client.get());
  auto slow_until = Clock::now() + 1s;
  while (Clock::now() < slow_until && !reader.eof() && reader.err() == 0) {
    reader.readOnce(64 * 1024, Deadline(5s));
    std::this_thread::sleep_for(4ms);
  }
  bool eof = reader.readToEof(Deadline(60s));
  sampler.request_stop();
  sampler.join();

  EXPECT_TRUE(eof) << reader.describe();
  EXPECT_EQ(reader.bytes(), kLen) << reader.describe();
  EXPECT_EQ(reader.checksum(), patternChecksum(kSeed, kLen)) << "stream corrupted";

  long growth_kb = peak.load() - *baseline;
  EXPECT_LT(growth_kb, 64 * 1024) << "proxy RSS grew by " << growth_kb / 1024
                                  << " MB over a baseline of " << *baseline / 1024 << " MB";
  EXPECT_GT(sent_while_paused, 0u) << "the upstream was never connected";
  EXPECT_LT(sent_while_paused, 96 * kMB)
      << "the upstream sent " << sent_while_paused / kMB
      << " MB while the client read nothing: the proxy is not pushing back";
}

TEST(Limits, SlowUpstreamReaderKeepsProxyMemoryBounded) {
  constexpr uint64_t kLen = 200 * kMB;
  constexpr uint64_t kSeed = 34;
  // The upstream reads nothing until the test opens the gate, then all of it.
  auto gate = std::make_shared<Slot<bool>>();
  auto seen = std::make_shared<Slot<std::pair<uint64_t, uint64_t>>>();  // bytes, checksum
  TestServer sink([gate, seen](Conn& c) {
    gate->wait(10s);
    StreamReader reader(c.fd());
    reader.readToEof(Deadline(60s));
    seen->set({reader.bytes(), reader.checksum()});
    c.close();
  });
  ProxyProcess proxy(renderConfig(simpleConfig({sink.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  auto baseline = proxy.rssKb();
  ASSERT_TRUE(baseline);

  std::atomic<long> peak{*baseline};
  std::jthread sampler([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (auto rss = proxy.rssKb()) peak.store(std::max(peak.load(), *rss));
      std::this_thread::sleep_for(10ms);
    }
  });

  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  std::atomic<uint64_t> sent{0};
  TransferResult result;
  std::jthread sender([&] {
    result = transfer(client.get(), {.send_seed = kSeed, .send_len = kLen, .sent_progress = &sent},
                      Deadline(60s));
  });

  // The scenario: the upstream reads nothing for 2 s while the client pushes.
  std::this_thread::sleep_for(2s);
  uint64_t sent_while_paused = sent.load();
  gate->set(true);
  sender.join();
  sampler.request_stop();
  sampler.join();

  EXPECT_TRUE(result.send_done && result.eof) << "client: " << result.describe();
  auto up = seen->wait(10s);
  ASSERT_TRUE(up) << "upstream never saw the client's EOF";
  EXPECT_EQ(up->first, kLen);
  EXPECT_EQ(up->second, patternChecksum(kSeed, kLen)) << "stream corrupted";

  long growth_kb = peak.load() - *baseline;
  EXPECT_LT(growth_kb, 64 * 1024) << "proxy RSS grew by " << growth_kb / 1024
                                  << " MB over a baseline of " << *baseline / 1024 << " MB";
  EXPECT_GT(sent_while_paused, 0u);
  EXPECT_LT(sent_while_paused, 96 * kMB)
      << "the client sent " << sent_while_paused / kMB
      << " MB while the upstream read nothing: the proxy is not pushing back";
}

TEST(Limits, MaxConnectionsClosesTheExcessConnection) {
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({echo.port()});
  spec.listeners[0].max_connections = 2;
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  const Labels l1{{"listener", "l1"}};

  Fd a = connectLoopback(*port), b = connectLoopback(*port);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(echoRoundTrip(a.get(), "a"), "");
  ASSERT_EQ(echoRoundTrip(b.get(), "b"), "");

  Fd c = connectLoopback(*port);
  ASSERT_TRUE(c) << "the kernel completes the handshake; the proxy then closes it";
  auto start = Clock::now();
  ReadToClose r = readUntilClosed(c.get(), Deadline(3s));
  EXPECT_NE(r.how, CloseKind::kTimeout) << "third connection still open after 3 s";
  EXPECT_LT(msSince(start), 1000) << "third connection was not closed promptly";
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_listener_downstream_cx_overflow_total", l1, 1));
  EXPECT_EQ(echo.acceptedCount(), 2) << "an overflowed connection must not reach the upstream";

  EXPECT_EQ(echoRoundTrip(a.get(), "a again"), "");
  EXPECT_EQ(echoRoundTrip(b.get(), "b again"), "");

  // Closing one frees a slot.
  a.reset();
  ASSERT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_active", l1, 1));
  Fd d = connectLoopback(*port);
  ASSERT_TRUE(d);
  EXPECT_EQ(echoRoundTrip(d.get(), "d"), "") << "a freed slot must admit a new connection";
}

TEST(Limits, IdleTimeoutClosesOnlyIdleConnections) {
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({echo.port()});
  spec.listeners[0].idle_timeout = "300ms";
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);
  const Labels l1{{"listener", "l1"}};

  // Traffic every 100 ms for ~1 s keeps a connection alive past 300 ms.
  Fd active = connectLoopback(*port);
  ASSERT_TRUE(active);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(echoRoundTrip(active.get(), "tick " + std::to_string(i)), "")
        << "active connection failed at tick " << i << " (~" << i * 100 << " ms)";
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(proxy.metric("sluice_listener_downstream_cx_idle_timeout_total", l1).value_or(0), 0)
      << "an active connection was counted as idle";
  active.reset();

  Fd idle = connectLoopback(*port);
  ASSERT_TRUE(idle);
  ASSERT_EQ(echoRoundTrip(idle.get(), "last words"), "");
  auto start = Clock::now();
  ReadToClose r = readUntilClosed(idle.get(), Deadline(3s));
  long long ms = msSince(start);
  EXPECT_NE(r.how, CloseKind::kTimeout) << "idle connection still open after 3 s";
  EXPECT_GE(ms, 200) << "closed after " << ms << " ms, well before the 300 ms idle timeout";
  EXPECT_LT(ms, 1500) << "closed after " << ms << " ms";
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_listener_downstream_cx_idle_timeout_total", l1, 1));
}

}  // namespace
}  // namespace sluice::itest
