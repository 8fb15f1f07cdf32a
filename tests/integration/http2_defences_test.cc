// HTTP/2 attacks against the running proxy, on raw frames. Each checks that
// the attacking connection is ended (GOAWAY ENHANCE_YOUR_CALM, or the error
// proxy/http/http2_codec.h documents) or its stream refused, that the
// listener counted it, that a fresh connection is still served, and, where
// the attack is about memory, that the proxy's RSS stayed flat. Every loop
// is bounded; an attack stops early when the proxy has cut the connection.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/config.h"
#include "tests/integration/support/h2_frames.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using h2::Client;
using h2::errorName;
namespace hpack = h2::hpack;

const Labels kWeb{{"listener", "web"}};
constexpr uint64_t kHugeBytes = 100ull << 20;
// What an attack may add to the proxy's RSS: a few buffers, never the attack.
constexpr long kRssBudgetKb = 24 * 1024;

class Http2Defences : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(
        renderConfig(httpConfig("codec: auto\n"s + routeAllTo("c1"), {cluster("c1", {up_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }

  std::unique_ptr<Client> connect(h2::ClientOptions opts = {}, const h2::Settings& settings = {}) {
    auto c = std::make_unique<Client>(port_, opts);
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->handshake(settings)) << c->describe();
    return c;
  }

  // The proxy's RSS once a connection has been served (pools, buffers warm).
  long warmBaseline() {
    expectFreshConnectionServes();
    return proxy_->rssKb().value_or(0);
  }

  // The attacked connection was ended: it closes, and a GOAWAY, if one made
  // it through before the close, carries `code`.
  static void expectCut(Client& c, uint32_t code, Millis timeout = 5s) {
    EXPECT_TRUE(c.waitClosed(timeout)) << "the attacking connection is still open; " << c.describe();
    if (c.goAway()) {
      EXPECT_EQ(errorName(c.goAway()->error_code), errorName(code)) << c.describe();
    }
  }

  // As expectCut, and the GOAWAY must have arrived.
  static void expectGoAwayAndCut(Client& c, uint32_t code, Millis timeout = 5s) {
    auto g = c.waitForGoAway(timeout);
    ASSERT_TRUE(g.has_value()) << "expected GOAWAY " << errorName(code) << "; " << c.describe();
    EXPECT_EQ(errorName(g->error_code), errorName(code)) << c.describe();
    EXPECT_TRUE(c.waitClosed(timeout)) << c.describe();
  }

  void expectServes(Client& c, const std::string& path) {
    const uint32_t id = c.request(h2::requestHeaders("GET", path));
    const auto& s = c.waitForResponse(id);
    EXPECT_EQ(s.status(), 200) << "stream " << id << ": " << s.describe() << "; " << c.describe();
    EXPECT_EQ(s.body, "c1 GET " + path + "\n");
  }

  void expectFreshConnectionServes() {
    auto c = connect();
    expectServes(*c, "/fresh");
  }

  // New connections are served, one every 100 ms, for `how_long`.
  void expectOtherConnectionsServed(Millis how_long) {
    const auto until = Clock::now() + how_long;
    while (Clock::now() < until) {
      auto other = connect();
      expectServes(*other, "/other-connection");
      std::this_thread::sleep_for(100ms);
    }
  }

  void expectRssFlat(const RssSampler& rss, long baseline, const char* what) {
    ASSERT_GT(baseline, 0);
    // ASan's quarantine keeps every block an attack made the proxy free (a
    // trickled PING flood grew it by 39 MiB there, 0-2 MiB in Release).
    if (proxyUnderSanitizer()) return;
    const long growth = rss.peakKb() - baseline;
    EXPECT_LT(growth, kRssBudgetKb) << "proxy RSS grew by " << growth / 1024 << " MiB under " << what;
  }

  // Sends `frame` `count` times in writes of about 64 KiB, without reading;
  // stops when the proxy stops taking them. Returns how many went out.
  static int flood(Client& c, const std::string& frame, int count) {
    std::string batch;
    const int per_batch = std::max<int>(1, static_cast<int>((64 * 1024) / frame.size()));
    for (int i = 0; i < per_batch; ++i) batch += frame;
    int sent = 0;
    while (sent < count) {
      const int n = std::min(per_batch, count - sent);
      if (!c.sendRaw(std::string_view(batch).substr(0, frame.size() * n))) break;
      sent += n;
    }
    return sent;
  }

  // 20,000 copies of a control frame each owed an answer, sent without
  // reading a single answer: the connection is cut, counted, memory flat.
  void expectUnansweredFloodCut(const std::string& frame, const char* what) {
    const long baseline = warmBaseline();
    RssSampler rss(*proxy_);
    auto c = connect();
    flood(*c, frame, 20000);
    expectCut(*c, h2::kEnhanceYourCalm);
    rss.stop();
    EXPECT_LT(c->pingAcks() + c->settingsAcks(), 20000) << "every " << what << " was answered";
    EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_flood_total", kWeb, 1));
    expectRssFlat(rss, baseline, what);
    expectFreshConnectionServes();
  }

  HttpUpstream up_{byPathPrefix({{"/huge", hugeResponse(7, kHugeBytes)}}, describeRequest("c1"))};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

// CVE-2023-44487: streams opened and reset at once, thousands of times. The
// reset budget (max_stream_resets_burst 1000, then 100/s) runs out and the
// connection is ended; the upstream sees a small part of what was opened.
TEST_F(Http2Defences, RapidResetEndsTheConnection) {
  const long baseline = warmBaseline();
  RssSampler rss(*proxy_);
  auto c = connect();
  constexpr int kPairs = 5000;
  const auto headers = h2::requestHeaders("GET", "/reset");
  int opened = 0;
  while (opened < kPairs) {
    std::string batch;
    for (int i = 0; i < 100; ++i, ++opened) {
      const uint32_t id = c->nextStreamId();
      batch += c->headersFrames(id, headers, true);
      batch += h2::frame(h2::kRstStream, 0, id, h2::be32(h2::kCancel));
    }
    if (!c->sendRaw(batch)) break;
  }
  expectGoAwayAndCut(*c, h2::kEnhanceYourCalm);
  rss.stop();
  EXPECT_GT(opened, 1000) << "cut before the burst was spent";
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_rapid_reset_total", kWeb, 1));
  EXPECT_GE(metricOr0(*proxy_, "sluice_listener_downstream_h2_rx_reset_total", kWeb), 1000);
  // Streams reset before their upstream was reached never reach it.
  const size_t reached = up_.requestCount();
  EXPECT_LT(reached, static_cast<size_t>(opened) / 10)
      << reached << " of " << opened << " reset requests reached the upstream";
  expectRssFlat(rss, baseline, "Rapid Reset");
  expectFreshConnectionServes();
}

// Resets within the budget are no attack: a client cancelling now and then keeps its connection.
TEST_F(Http2Defences, ResetsWithinTheBudgetKeepTheConnection) {
  auto c = connect();
  for (int i = 0; i < 200; ++i) {
    const uint32_t id = c->nextStreamId();
    ASSERT_TRUE(c->sendRaw(c->headersFrames(id, h2::requestHeaders("GET", "/cancelled"), true) +
                           h2::frame(h2::kRstStream, 0, id, h2::be32(h2::kCancel))));
  }
  expectServes(*c, "/still-here");
  EXPECT_FALSE(c->goAway().has_value()) << c->describe();
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_h2_rapid_reset_total", kWeb), 0);
}

// CVE-2024-27316: a HEADERS frame without END_HEADERS, then CONTINUATIONs
// for ever. At the ninth the connection is cut; nothing piles up.
TEST_F(Http2Defences, ContinuationFloodIsCut) {
  const long baseline = warmBaseline();
  RssSampler rss(*proxy_);
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(id, hpack::literalBlock(h2::requestHeaders("GET", "/cont")), true, false));
  // 16 KiB of header fields in each: 32 MiB if it were all taken.
  std::string fields;
  for (int i = 0; fields.size() < 16000; ++i)
    fields += hpack::literal("x-c" + std::to_string(i), std::string(100, 'c'));
  const int sent = flood(*c, h2::frame(h2::kContinuation, 0, id, fields), 2000);
  expectGoAwayAndCut(*c, h2::kEnhanceYourCalm);
  rss.stop();
  EXPECT_GE(sent, 9);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_header_overflow_total", kWeb, 1));
  EXPECT_EQ(up_.requestCount(), 1u) << "only the warm-up request";
  expectRssFlat(rss, baseline, "a CONTINUATION flood");
  expectFreshConnectionServes();
}

TEST_F(Http2Defences, EmptyContinuationFloodIsCut) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(id, hpack::literalBlock(h2::requestHeaders("GET", "/cont")), true, false));
  flood(*c, h2::frame(h2::kContinuation, 0, id, ""), 20000);
  expectGoAwayAndCut(*c, h2::kEnhanceYourCalm);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_header_overflow_total", kWeb, 1));
  expectFreshConnectionServes();
}

// An HPACK bomb: one 4 KB entry in the dynamic table, then a header block
// that names it by index (one byte) over and over, 8 frames' worth: half a
// GiB of fields from 128 KiB. The header list bound cuts it as it decodes;
// the stream gets 431 and the connection goes on.
TEST_F(Http2Defences, HpackBombIsCutAsItDecodes) {
  const long baseline = warmBaseline();
  RssSampler rss(*proxy_);
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  std::string block = hpack::literalBlock(h2::requestHeaders("GET", "/bomb")) +
                      hpack::literalWithIndexing("x-bomb", std::string(4000, 'b'));
  std::string frames;
  block += std::string(16384 - block.size(), static_cast<char>(0x80 | 62));
  frames += h2::frame(h2::kHeaders, h2::kEndStream, id, block);
  const std::string refs(16384, static_cast<char>(0x80 | 62));
  for (int i = 0; i < 7; ++i) frames += h2::frame(h2::kContinuation, i == 6 ? h2::kEndHeaders : 0, id, refs);
  ASSERT_TRUE(c->sendRaw(frames));
  const auto& r = c->waitForResponse(id, 5s);
  rss.stop();
  EXPECT_TRUE(r.status() == 431 || r.rst.has_value()) << r.describe() << "; " << c->describe();
  EXPECT_EQ(r.status(), 431) << r.describe();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_header_overflow_total", kWeb, 1));
  EXPECT_EQ(up_.requestCount(), 1u) << "the bomb reached the upstream";
  expectRssFlat(rss, baseline, "an HPACK bomb");
  // The connection survives, and the table entry is still good for a real request.
  expectServes(*c, "/after-bomb");
  expectFreshConnectionServes();
}

// CVE-2019-9512: PINGs from a client that does not read our answers. The
// answers we owe queue up to a bound, then the connection is closed.
TEST_F(Http2Defences, PingFloodWithoutReadingIsCut) {
  expectUnansweredFloodCut(h2::frame(h2::kPing, 0, 0, "floodme!"), "PING");
}

// The same, trickled: each read holds few PINGs, so the answers do go out,
// into socket buffers the client never empties, then into the proxy's
// write buffer up to its high watermark, then into nghttp2's queue up to
// its bound, where the connection is closed. The client sees the close as
// a failed send (its reads would empty the buffers and end the test), and
// the GOAWAY may be lost behind the answers nobody read.
TEST_F(Http2Defences, TrickledPingFloodWithoutReadingIsCut) {
  const long baseline = warmBaseline();
  RssSampler rss(*proxy_);
  h2::ClientOptions opts;
  opts.rcvbuf = 16 * 1024;
  auto c = connect(opts);
  setSendBuffer(c->fd(), 16 * 1024);
  const std::string ping = h2::frame(h2::kPing, 0, 0, "trickle!");
  std::string batch;
  for (int i = 0; i < 400; ++i) batch += ping;
  constexpr int kMaxPings = 1000000;
  int sent = 0;
  Deadline deadline(30s);
  while (sent < kMaxPings && !deadline.expired() && c->sendRaw(batch)) {
    sent += 400;
    std::this_thread::sleep_for(100us);
  }
  rss.stop();
  ASSERT_LT(sent, kMaxPings) << "the proxy kept answering PINGs nobody reads";
  ASSERT_FALSE(deadline.expired()) << "still open after " << sent << " PINGs";
  EXPECT_TRUE(c->lastSendError() == ECONNRESET || c->lastSendError() == EPIPE)
      << "the proxy stopped reading instead of closing: " << std::strerror(c->lastSendError());
  expectCut(*c, h2::kEnhanceYourCalm);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_flood_total", kWeb, 1));
  expectRssFlat(rss, baseline, "a trickled PING flood");
  expectFreshConnectionServes();
}

// CVE-2019-9515: the same with SETTINGS, each owed an ACK.
TEST_F(Http2Defences, SettingsFloodWithoutReadingIsCut) {
  expectUnansweredFloodCut(h2::frame(h2::kSettings, 0, 0, h2::settingsPayload({{h2::kEnablePush, 0}})), "SETTINGS");
}

// CVE-2019-9518: empty DATA frames cost the server work and carry nothing.
TEST_F(Http2Defences, EmptyDataFloodIsCalmed) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/empty"), false));
  flood(*c, h2::frame(h2::kData, 0, id, ""), 10000);
  expectGoAwayAndCut(*c, h2::kEnhanceYourCalm);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_flood_total", kWeb, 1));
  expectFreshConnectionServes();
}

// An empty DATA frame that ends the stream is how a body ends: not a flood.
TEST_F(Http2Defences, EmptyDataEndingAStreamIsFine) {
  auto c = connect();
  for (int i = 0; i < 20; ++i) {
    const uint32_t id = c->nextStreamId();
    ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/p" + std::to_string(i)), false));
    ASSERT_TRUE(c->sendData(id, "", true));
    EXPECT_EQ(c->waitForResponse(id).status(), 200) << c->describe();
  }
  EXPECT_FALSE(c->goAway().has_value()) << c->describe();
}

// CVE-2019-9516-like: PRIORITY frames on idle streams cost state and CPU.
TEST_F(Http2Defences, PriorityFloodIsCalmed) {
  auto c = connect();
  std::string batch;
  for (uint32_t id = 1; id < 2 * 2000; id += 2) batch += h2::frame(h2::kPriority, 0, id, h2::be32(0) + "\x10");
  for (int i = 0; i < 10 && c->sendRaw(batch); ++i) {
  }
  expectGoAwayAndCut(*c, h2::kEnhanceYourCalm);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_flood_total", kWeb, 1));
  expectFreshConnectionServes();
}

// CVE-2019-9517-like: WINDOW_UPDATEs far beyond what the DATA we send could need.
TEST_F(Http2Defences, WindowUpdateFloodIsCalmed) {
  auto c = connect();
  flood(*c, h2::frame(h2::kWindowUpdate, 0, 0, h2::be32(1)), 20000);
  expectGoAwayAndCut(*c, h2::kEnhanceYourCalm);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_flood_total", kWeb, 1));
  expectFreshConnectionServes();
}

// A client that never gives a download's window back: the proxy sends the
// 64 KiB the stream window allows and holds the rest back at the upstream,
// not in memory. The connection window is open, so another stream on the
// same connection is still served, and so are other connections.
TEST_F(Http2Defences, StalledStreamWindowHoldsTheDownloadBack) {
  const long baseline = warmBaseline();
  RssSampler rss(*proxy_);
  h2::ClientOptions opts;
  opts.auto_window_update = false;
  auto c = connect(opts);
  ASSERT_TRUE(c->sendWindowUpdate(0, 1u << 30));
  const uint32_t huge = c->request(h2::requestHeaders("GET", "/huge"));
  ASSERT_TRUE(c->waitFor([&] { return c->stream(huge).body_bytes >= 65535; }, 5s)) << c->describe();
  // Two seconds for anything to pile up, while other clients are served.
  expectOtherConnectionsServed(2s);
  c->drain(100ms);
  EXPECT_EQ(c->stream(huge).body_bytes, 65535u) << "the proxy sent past the stream window";
  EXPECT_EQ(c->stream(huge).status(), 200);
  // Per-stream flow control: the connection is not blocked.
  const uint32_t small = c->request(h2::requestHeaders("GET", "/same-connection"));
  EXPECT_EQ(c->waitForResponse(small).status(), 200) << c->describe();
  rss.stop();
  expectRssFlat(rss, baseline, "a stalled 100 MiB download");
  EXPECT_FALSE(c->goAway().has_value()) << c->describe();
}

// A client that opens every window but does not read its socket: the
// proxy's write buffer fills, and its watermarks, not memory, hold the
// 100 MiB back.
TEST_F(Http2Defences, ClientNotReadingItsSocketHoldsTheDownloadBack) {
  const long baseline = warmBaseline();
  RssSampler rss(*proxy_);
  h2::ClientOptions opts;
  opts.rcvbuf = 64 * 1024;
  auto c = connect(opts, {{h2::kInitialWindowSize, h2::kMaxWindow}});
  ASSERT_TRUE(c->sendWindowUpdate(0, h2::kMaxWindow - 65535));
  c->request(h2::requestHeaders("GET", "/huge"));
  expectOtherConnectionsServed(2s);
  rss.stop();
  expectRssFlat(rss, baseline, "a 100 MiB download to a client not reading");
  EXPECT_LT(c->bytesRead(), 1u << 20);
}

// A header list over max_request_headers_bytes (60 KiB): 431 for that
// stream, and the connection is still good.
TEST_F(Http2Defences, HeaderListOverTheLimitIs431AndTheConnectionSurvives) {
  auto c = connect();
  HeaderList extra;
  for (int i = 0; i < 70; ++i) extra.emplace_back("x-big-" + std::to_string(i), std::string(1000, 'h'));
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("GET", "/big", extra), true));
  const auto& r = c->waitForResponse(id);
  EXPECT_TRUE(r.status() == 431 || r.rst.has_value()) << r.describe();
  EXPECT_EQ(r.status(), 431) << r.describe();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_header_overflow_total", kWeb, 1));
  EXPECT_EQ(up_.requestCount(), 0u);
  expectServes(*c, "/after-big");
  EXPECT_FALSE(c->goAway().has_value()) << c->describe();
}

TEST_F(Http2Defences, TooManyHeaderFieldsIs431AndTheConnectionSurvives) {
  auto c = connect();
  HeaderList extra;
  for (int i = 0; i < 150; ++i) extra.emplace_back("x-n-" + std::to_string(i), "v");
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("GET", "/many", extra), true));
  EXPECT_EQ(c->waitForResponse(id).status(), 431) << c->stream(id).describe();
  EXPECT_EQ(up_.requestCount(), 0u);
  expectServes(*c, "/after-many");
}

}  // namespace
}  // namespace sluice::itest

namespace sluice::itest {
namespace {

// Trailers over the header bounds on a stream whose request the proxy is
// already forwarding: the stream is reset and the proxy forgets it (no reply
// later written to a stream that is gone); the connection goes on.
TEST_F(Http2Defences, OversizedTrailersResetAStreamInFlight) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/with-trailers"), false));
  ASSERT_TRUE(c->sendData(id, "body", false));
  HeaderList trailers;
  for (int i = 0; i < 150; ++i) trailers.push_back({"x-t" + std::to_string(i), "v"});
  ASSERT_TRUE(c->sendHeaders(id, trailers, true));
  EXPECT_TRUE(c->waitForRst(id).has_value()) << c->describe();
  expectServes(*c, "/after-trailers");
  expectFreshConnectionServes();
}

// A client that resets its only stream leaves the connection idle: the
// listener's idle_timeout still closes it (else a cheap way to hold fds).
TEST(Http2Idle, ConnectionIdleAfterAResetStreamIsClosed) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig("idle_timeout: 1s\n"s + routeAllTo("c1"), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  Client c(port);
  ASSERT_TRUE(c.handshake()) << c.describe();
  const uint32_t id = c.nextStreamId();
  ASSERT_TRUE(c.sendHeaders(id, h2::requestHeaders("POST", "/never-finished"), false));
  ASSERT_TRUE(c.sendRst(id, h2::kCancel));
  EXPECT_TRUE(c.waitClosed(4s)) << "an HTTP/2 connection idle after a reset stream was never closed; " << c.describe();
}

}  // namespace
}  // namespace sluice::itest
