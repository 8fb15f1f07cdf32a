// Checks the test harness itself, without the proxy: the streams and
// checksums, the metrics parser, and the socket tricks the proxy tests rely
// on (blackhole, dead port, RST) behave as assumed on this kernel.

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <random>
#include <vector>

#include "tests/integration/support/config.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

TEST(Harness, PatternAndChecksumIgnoreChunking) {
  constexpr size_t kLen = 1 << 20;
  std::string whole = patternBytes(5, kLen);
  std::mt19937 rng(1);
  PatternGen gen(5);
  Checksum sum;
  std::string pieces;
  while (pieces.size() < kLen) {
    size_t n = std::min<size_t>(rng() % 1000 + 1, kLen - pieces.size());
    std::string chunk(n, '\0');
    gen.fill(chunk.data(), n);
    sum.update(chunk.data(), n);
    pieces += chunk;
  }
  EXPECT_EQ(pieces, whole);
  EXPECT_EQ(sum.value(), patternChecksum(5, kLen));
  EXPECT_NE(patternChecksum(5, kLen), patternChecksum(6, kLen));
  EXPECT_NE(patternChecksum(5, kLen), patternChecksum(5, kLen - 1));
  whole[12345] ^= 1;
  Checksum flipped;
  flipped.update(whole.data(), whole.size());
  EXPECT_NE(flipped.value(), sum.value());
}

TEST(Harness, MetricsParser) {
  const std::string text =
      "# HELP x help\n# TYPE x counter\n"
      "sluice_listener_downstream_cx_total{listener=\"l1\"} 3\n"
      "sluice_listener_downstream_cx_total{listener=\"l2\"} 4\n"
      "sluice_listener_downstream_cx_total_extra{listener=\"l1\"} 9\n"
      "sluice_server_config_reloads_total{result=\"ok\",other=\"a\\\"b\"} 1e+00\n"
      "sluice_server_draining 0\n";
  EXPECT_EQ(findMetric(text, "sluice_listener_downstream_cx_total", {{"listener", "l2"}}), 4);
  EXPECT_EQ(findMetric(text, "sluice_listener_downstream_cx_total", {{"listener", "l1"}}), 3);
  EXPECT_EQ(findMetric(text, "sluice_server_config_reloads_total", {{"other", "a\"b"}}), 1);
  EXPECT_EQ(findMetric(text, "sluice_server_draining", {}), 0);
  EXPECT_FALSE(findMetric(text, "sluice_server_config_reloads_total", {{"result", "failed"}}));
}

TEST(Harness, BlackholeMakesConnectsTimeOut) {
  Blackhole hole;
  EXPECT_TRUE(hole.verify(300ms));
  EXPECT_TRUE(hole.verify(300ms)) << "a second probe must time out too";
}

TEST(Harness, DeadPortRefuses) {
  DeadPort dead;
  int err = 0;
  EXPECT_FALSE(connectLoopback(dead.port(), 1s, &err));
  EXPECT_EQ(err, ECONNREFUSED);
}

TEST(Harness, DirectDuplexTransfer) {
  constexpr uint64_t kLen = 8 << 20;
  auto log = std::make_shared<StreamLog>();
  TestServer server(streamHandler(log, 2, kLen));
  Fd c = connectLoopback(server.port());
  ASSERT_TRUE(c);
  TransferResult r = transfer(c.get(), {.send_seed = 1, .send_len = kLen}, Deadline(20s));
  EXPECT_TRUE(r.send_done && r.eof) << r.describe();
  EXPECT_EQ(r.received_checksum, patternChecksum(2, kLen));
  ASSERT_TRUE(waitUntil([&] { return log->results().size() == 1; }, 5s));
  EXPECT_EQ(log->results()[0].received_checksum, patternChecksum(1, kLen));
}

TEST(Harness, DirectEchoAndReset) {
  TestServer echo(echoHandler());
  Fd c = connectLoopback(echo.port());
  ASSERT_TRUE(c);
  EXPECT_EQ(echoRoundTrip(c.get(), "hi"), "");
  shutdownWrite(c.get());
  EXPECT_EQ(readUntilClosed(c.get(), Deadline(2s)).how, CloseKind::kEof);

  TestServer resetter([](Conn& conn) {
    recvExactly(conn.fd(), 1, Deadline(2s));
    conn.reset();
  });
  Fd d = connectLoopback(resetter.port());
  ASSERT_TRUE(d);
  sendAll(d.get(), "x", Deadline(1s));
  EXPECT_EQ(readUntilClosed(d.get(), Deadline(2s)).how, CloseKind::kReset);
}

TEST(Harness, RenderedConfigShape) {
  ConfigSpec spec = simpleConfig({1234, 5678});
  spec.listeners[0].extra_lines.push_back("bogus: 1");
  std::string y = renderConfig(spec);
  EXPECT_NE(y.find("      - {address: 127.0.0.1:5678, weight: 1}\n"), std::string::npos) << y;
  EXPECT_EQ(lineOf(y, "bogus"), lineOf(y, "tcp_proxy:") + 1) << y;
}

}  // namespace
}  // namespace sluice::itest
