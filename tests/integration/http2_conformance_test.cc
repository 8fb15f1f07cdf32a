// HTTP/2 conformance through the real binary, frame by frame (RFC 9113; a
// small h2spec). Each test names the section it checks. A connection error
// must end the connection with GOAWAY and the named code (5.4.1); a stream
// error must reset that stream alone (5.4.2), and the same connection then
// still serves a normal request. Where the RFC leaves the choice (a stream
// error MAY be treated as a connection error, 5.4.1), the test asserts what
// Sluice does and says so.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/config.h"
#include "tests/integration/support/h2_frames.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using h2::Client;
using h2::errorName;
namespace hpack = h2::hpack;

const Labels kWeb{{"listener", "web"}};
constexpr auto kSlow = 800ms;

class Http2Conformance : public ::testing::Test {
 protected:
  void SetUp() override { start("codec: auto\n"s + routeAllTo("c1")); }

  void start(const std::string& http_yaml) {
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(http_yaml, {cluster("c1", {up_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }

  // A client past the preface and the SETTINGS exchange.
  std::unique_ptr<Client> connect(const h2::Settings& settings = {}) {
    auto c = std::make_unique<Client>(port_);
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->handshake(settings)) << c->describe();
    return c;
  }

  // The connection ends with GOAWAY(code) and closes (5.4.1), counted.
  void expectConnectionError(Client& c, uint32_t code) {
    auto g = c.waitForGoAway();
    ASSERT_TRUE(g.has_value()) << "expected GOAWAY " << errorName(code) << "; " << c.describe();
    EXPECT_EQ(errorName(g->error_code), errorName(code)) << c.describe();
    EXPECT_TRUE(c.waitClosed()) << "the connection must close after GOAWAY " << errorName(code) << "; " << c.describe();
    EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_protocol_error_total", kWeb, 1));
  }

  // RST_STREAM(code) on `stream`, and no GOAWAY: the connection goes on (5.4.2).
  static void expectStreamError(Client& c, uint32_t stream, uint32_t code) {
    auto rst = c.waitForRst(stream);
    ASSERT_TRUE(rst.has_value()) << "expected RST_STREAM " << errorName(code) << " on stream " << stream << "; "
                                 << c.describe();
    EXPECT_EQ(errorName(*rst), errorName(code)) << c.describe();
    EXPECT_FALSE(c.goAway().has_value()) << "a stream error must not end the connection; " << c.describe();
  }

  // A normal request on `c` is served: the connection is still good.
  void expectServes(Client& c, const std::string& path = "/after") {
    const uint32_t id = c.request(h2::requestHeaders("GET", path));
    const h2::StreamState& s = c.waitForResponse(id);
    EXPECT_EQ(s.status(), 200) << "stream " << id << ": " << s.describe() << "; " << c.describe();
    EXPECT_EQ(s.body, "c1 GET " + path + "\n");
    EXPECT_TRUE(s.end_stream);
  }

  // A fresh connection is served (the proxy is fine after a connection error).
  void expectFreshConnectionServes() {
    auto c = connect();
    expectServes(*c, "/fresh");
  }

  HttpUpstream up_{
      byPathPrefix({{"/slow", slowResponse(kSlow, "slow\n")}, {"/echo", echoBody()}}, describeRequest("c1"))};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

// ---- 3.4 Connection preface ----

TEST_F(Http2Conformance, Preface_3_4_ServerSettingsIsTheFirstFrame) {
  Client c(port_);
  ASSERT_TRUE(c.sendRaw(std::string(h2::kPreface) + h2::frame(h2::kSettings, 0, 0, "")));
  const h2::Frame* f = c.pump(Deadline(3s));
  ASSERT_NE(f, nullptr) << c.describe();
  EXPECT_EQ(f->type, h2::kSettings) << f->describe();
  EXPECT_EQ(f->flags & h2::kAck, 0);
  EXPECT_EQ(f->stream, 0u);
  // 6.5.3: our SETTINGS is acknowledged.
  EXPECT_TRUE(c.waitFor([&] { return c.settingsAcks() >= 1; })) << c.describe();
  expectServes(c);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_cx_http2_total", kWeb, 1));
}

TEST_F(Http2Conformance, Preface_3_4_InvalidPrefaceIsProtocolError) {
  start("codec: http2\n"s + routeAllTo("c1"));
  Client c(port_);
  ASSERT_TRUE(c.sendRaw("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + h2::frame(h2::kSettings, 0, 0, "")));
  // A GOAWAY MAY be omitted here (the peer is not speaking HTTP/2); if one
  // comes it says PROTOCOL_ERROR.
  EXPECT_TRUE(c.waitClosed()) << c.describe();
  if (c.goAway()) {
    EXPECT_EQ(errorName(c.goAway()->error_code), "PROTOCOL_ERROR") << c.describe();
  }
  EXPECT_EQ(up_.requestCount(), 0u);
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_listener_downstream_h2_protocol_error_total", kWeb, 1));
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Preface_3_4_AutoCodecTakesANonPrefaceForHttp1) {
  // codec auto: bytes that are not the preface are an HTTP/1 request line,
  // and "PRI * HTTP/2.0" is not one Sluice serves.
  RawHttpClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));
  HttpReply r = c.read(3s);
  EXPECT_GE(r.status, 400) << r.describe();
  EXPECT_TRUE(c.waitClosed(3s));
  EXPECT_EQ(up_.requestCount(), 0u);
}

TEST_F(Http2Conformance, Preface_3_4_FirstFrameMustBeSettings) {
  Client c(port_);
  ASSERT_TRUE(c.sendRaw(std::string(h2::kPreface) + h2::frame(h2::kPing, 0, 0, "12345678")));
  EXPECT_TRUE(c.waitClosed()) << c.describe();
  if (c.goAway()) {
    EXPECT_EQ(errorName(c.goAway()->error_code), "PROTOCOL_ERROR") << c.describe();
  }
  EXPECT_EQ(c.pingAcks(), 0) << "a PING before SETTINGS was answered";
  expectFreshConnectionServes();
}

// Every connection ended by a protocol error is counted once: those nghttp2
// answers itself with a GOAWAY and those it hands back to the codec.
TEST_F(Http2Conformance, ConnectionErrors_5_4_1_AreCountedOnce) {
  start("codec: http2\n"s + routeAllTo("c1"));
  {
    auto c = connect();
    ASSERT_TRUE(c->sendWindowUpdate(0, 0));  // nghttp2 sends the GOAWAY itself
    ASSERT_TRUE(c->waitClosed()) << c->describe();
  }
  {
    Client c(port_);
    ASSERT_TRUE(c.sendRaw("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));  // nghttp2 hands it back to the codec
    ASSERT_TRUE(c.waitClosed()) << c.describe();
  }
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_h2_protocol_error_total", kWeb, 2));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_h2_protocol_error_total", kWeb), 2);
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_cx_http2_total", kWeb), 2);
}

// ---- 6.5 SETTINGS ----

TEST_F(Http2Conformance, Settings_6_5_2_AdvertisedDefaults) {
  auto c = connect();
  const auto& s = c->serverSettings();
  auto value = [&](uint16_t id) -> std::optional<uint32_t> {
    auto it = s.find(id);
    return it == s.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  };
  EXPECT_EQ(value(h2::kMaxConcurrentStreams), 100u);
  EXPECT_EQ(value(h2::kEnablePush), 0u);
  // 65535 is also the protocol's default: sent or not, the window is 65535.
  EXPECT_EQ(value(h2::kInitialWindowSize).value_or(65535), 65535u);
  EXPECT_EQ(value(h2::kMaxFrameSize).value_or(16384), 16384u);
  EXPECT_EQ(value(h2::kMaxHeaderListSize), 60u * 1024) << "max_request_headers_bytes";
  // The connection window is opened to initial_connection_window_size (1 MiB) at once.
  EXPECT_TRUE(c->waitFor([&] { return c->windowGranted(0) >= 1024 * 1024 - 65535; }, 1s));
  EXPECT_EQ(c->windowGranted(0), 1024u * 1024 - 65535);
}

TEST_F(Http2Conformance, Settings_6_5_2_AdvertisedConfiguredValues) {
  start(R"(codec: http2
max_request_headers_bytes: 16384
http2:
  max_concurrent_streams: 7
  initial_stream_window_size: 1048576
  initial_connection_window_size: 4194304
  max_frame_size: 32768
)"s + routeAllTo("c1"));
  auto c = connect();
  const auto& s = c->serverSettings();
  EXPECT_EQ(s.at(h2::kMaxConcurrentStreams), 7u);
  EXPECT_EQ(s.at(h2::kInitialWindowSize), 1048576u);
  EXPECT_EQ(s.at(h2::kMaxFrameSize), 32768u);
  EXPECT_EQ(s.at(h2::kEnablePush), 0u);
  EXPECT_EQ(s.at(h2::kMaxHeaderListSize), 16384u);
  EXPECT_TRUE(c->waitFor([&] { return c->windowGranted(0) >= 4194304 - 65535; }, 1s)) << c->describe();
  // A frame up to the advertised SETTINGS_MAX_FRAME_SIZE is taken (4.2).
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendFrame(h2::kData, h2::kEndStream, id, std::string(32768, 'x')));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.header("x-body-bytes"), "32768");
}

TEST_F(Http2Conformance, Settings_6_5_AckWithPayloadIsFrameSizeError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kSettings, h2::kAck, 0, h2::settingsPayload({{h2::kEnablePush, 0}})));
  expectConnectionError(*c, h2::kFrameSizeError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Settings_6_5_LengthNotAMultipleOf6IsFrameSizeError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kSettings, 0, 0, std::string(7, '\0')));
  expectConnectionError(*c, h2::kFrameSizeError);
}

TEST_F(Http2Conformance, Settings_6_5_OnAStreamIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kSettings, 0, 1, ""));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Settings_6_5_2_InitialWindowSizeOverMaxIsFlowControlError) {
  auto c = connect();
  ASSERT_TRUE(c->sendSettings({{h2::kInitialWindowSize, 0x80000000u}}));
  expectConnectionError(*c, h2::kFlowControlError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Settings_6_5_2_MaxFrameSizeBelowMinimumIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendSettings({{h2::kMaxFrameSize, 16383}}));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Settings_6_5_2_MaxFrameSizeAboveMaximumIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendSettings({{h2::kMaxFrameSize, 16777216}}));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Settings_6_5_2_EnablePushOtherThan0Or1IsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendSettings({{h2::kEnablePush, 2}}));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Settings_6_5_2_UnknownSettingIsIgnored) {
  auto c = connect();
  ASSERT_TRUE(c->sendSettings({{0xfe, 12345}, {h2::kHeaderTableSize, 0}}));
  EXPECT_TRUE(c->waitFor([&] { return c->settingsAcks() >= 2; })) << c->describe();
  expectServes(*c);
}

// ---- 4.1, 4.2, 6.7 Frames and frame size ----

TEST_F(Http2Conformance, Frames_4_1_UnknownFrameTypeIsIgnored) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(0x20, 0xff, 0, "whatever this is"));
  ASSERT_TRUE(c->sendFrame(0x21, 0, 1, "on an idle stream too"));
  expectServes(*c);
}

TEST_F(Http2Conformance, FrameSize_4_2_DataOverMaxFrameSizeIsFrameSizeError) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendFrame(h2::kData, h2::kEndStream, id, std::string(16385, 'x')));
  // A stream error would do for DATA (4.2); nghttp2 ends the connection.
  expectConnectionError(*c, h2::kFrameSizeError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, FrameSize_4_2_HeadersOverMaxFrameSizeIsFrameSizeError) {
  auto c = connect();
  const std::string block = hpack::literalBlock(h2::requestHeaders("GET", "/x", {{"x-pad", std::string(17000, 'p')}}));
  ASSERT_TRUE(c->sendHeaderBlock(c->nextStreamId(), block, true));
  // A frame that can change the connection's state (a field block): a connection error.
  expectConnectionError(*c, h2::kFrameSizeError);
}

TEST_F(Http2Conformance, Padding_6_1_6_2_PaddedFramesAreServed) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  const std::string block = hpack::literalBlock(h2::requestHeaders("POST", "/echo"));
  ASSERT_TRUE(c->sendFrame(h2::kHeaders, h2::kEndHeaders | h2::kPadded, id,
                           std::string(1, '\x05') + block + std::string(5, '\0')));
  ASSERT_TRUE(c->sendFrame(h2::kData, h2::kEndStream | h2::kPadded, id,
                           std::string(1, '\x03') + "padded" + std::string(3, '\0')));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "padded");
}

TEST_F(Http2Conformance, Padding_6_2_PadLengthOverThePayloadIsProtocolError) {
  auto c = connect();
  const std::string block = hpack::literalBlock(h2::requestHeaders("GET", "/"));
  // The Pad Length counts more bytes than the payload (with its own byte) has.
  ASSERT_TRUE(c->sendFrame(h2::kHeaders, h2::kEndHeaders | h2::kEndStream | h2::kPadded, 1,
                           std::string(1, static_cast<char>(block.size() + 1)) + block));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Padding_6_1_PadLengthOverThePayloadIsProtocolError) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendFrame(h2::kData, h2::kEndStream | h2::kPadded, id, std::string(1, '\x09') + "12345678"));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Ping_6_7_IsAnsweredWithTheSamePayload) {
  auto c = connect();
  ASSERT_TRUE(c->sendPing("abcdefgh"));
  ASSERT_TRUE(c->waitFor([&] { return c->pingAcks() >= 1; })) << c->describe();
  bool found = false;
  for (const auto& f : c->frames())
    if (f.type == h2::kPing && (f.flags & h2::kAck)) found = f.payload == "abcdefgh" && f.stream == 0;
  EXPECT_TRUE(found) << c->describe();
  // An ACK from us is not answered.
  ASSERT_TRUE(c->sendPing("unasked!", true));
  c->drain(200ms);
  EXPECT_EQ(c->pingAcks(), 1);
  expectServes(*c);
}

TEST_F(Http2Conformance, Ping_6_7_LengthOtherThan8IsFrameSizeError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kPing, 0, 0, "1234567"));
  expectConnectionError(*c, h2::kFrameSizeError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Ping_6_7_OnAStreamIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kPing, 0, 1, "12345678"));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Frames_6_8_GoAwayFromTheClientIsHonoured) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendFrame(h2::kGoAway, 0, 0, h2::be32(0) + h2::be32(h2::kNoError)));
  // The stream already open is still answered.
  const auto& r = c->waitForResponse(id, 3s);
  EXPECT_EQ(r.status(), 200) << r.describe() << "; " << c->describe();
}

// ---- 6.10 CONTINUATION ----

TEST_F(Http2Conformance, Continuation_6_10_OtherFrameInsideAHeaderBlockIsProtocolError) {
  auto c = connect();
  const std::string block = c->deflate(h2::requestHeaders("GET", "/x"));
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(id, block.substr(0, 5), true, false));
  ASSERT_TRUE(c->sendPing("interlop"));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Continuation_6_10_OnAnotherStreamIsProtocolError) {
  auto c = connect();
  const std::string block = c->deflate(h2::requestHeaders("GET", "/x"));
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(id, block.substr(0, 5), true, false));
  ASSERT_TRUE(c->sendFrame(h2::kContinuation, h2::kEndHeaders, id + 2, block.substr(5)));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Continuation_6_10_WithoutHeadersIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kContinuation, h2::kEndHeaders, 1, hpack::literalBlock(h2::requestHeaders("GET", "/"))));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Continuation_6_10_SplitHeaderBlockIsServed) {
  auto c = connect();
  const std::string block = c->deflate(h2::requestHeaders("GET", "/split", {{"x-split", "yes"}}));
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(id, block.substr(0, 3), true, false));
  ASSERT_TRUE(c->sendFrame(h2::kContinuation, 0, id, block.substr(3, 4)));
  ASSERT_TRUE(c->sendFrame(h2::kContinuation, h2::kEndHeaders, id, block.substr(7)));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "c1 GET /split\n");
  EXPECT_EQ(up_.lastRequest()->header("x-split"), "yes");
}

// ---- 5.1 Stream states ----

TEST_F(Http2Conformance, StreamState_5_1_DataOnAnIdleStreamIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendData(1, "hello", true));
  expectConnectionError(*c, h2::kProtocolError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, StreamState_5_1_RstStreamOnAnIdleStreamIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendRst(1, h2::kCancel));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, StreamState_5_1_WindowUpdateOnAnIdleStreamIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendWindowUpdate(1, 100));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, StreamState_5_1_1_HeadersOnAnEvenStreamIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendHeaders(2, h2::requestHeaders("GET", "/even"), true));
  expectConnectionError(*c, h2::kProtocolError);
  EXPECT_EQ(up_.requestCount(), 0u);
}

// nghttp2 alone ignores a HEADERS on a lower, never-used stream id (it
// keeps no record of skipped ids) and its client waits; the codec checks
// every HEADERS id against the highest it has seen.
TEST_F(Http2Conformance, StreamState_5_1_1_LowerStreamIdIsProtocolError) {
  auto c = connect();
  const uint32_t id5 = 5;
  ASSERT_TRUE(c->sendHeaders(id5, h2::requestHeaders("GET", "/five"), true));
  EXPECT_EQ(c->waitForResponse(id5).status(), 200);
  // Stream 3 was never used, but opening 5 closed it (5.1.1).
  ASSERT_TRUE(c->sendHeaders(3, h2::requestHeaders("GET", "/three"), true));
  expectConnectionError(*c, h2::kProtocolError);
  EXPECT_EQ(up_.requestCount(), 1u);
}

TEST_F(Http2Conformance, StreamState_5_1_1_ReusedStreamIdIsAnError) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/once"));
  EXPECT_EQ(c->waitForResponse(id).status(), 200);
  // Stream 1 is closed now; HEADERS on it again. 5.1 "closed": STREAM_CLOSED
  // (a connection error is allowed); 5.1.1: an unexpected stream id is PROTOCOL_ERROR.
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("GET", "/twice"), true));
  auto g = c->waitForGoAway();
  ASSERT_TRUE(g.has_value()) << c->describe();
  EXPECT_TRUE(g->error_code == h2::kStreamClosed || g->error_code == h2::kProtocolError) << errorName(g->error_code);
  EXPECT_EQ(up_.requestCount(), 1u);
}

// 5.1 closed: after sending RST_STREAM an endpoint ignores what the peer
// had already sent on that stream. Trailers arriving after the proxy reset
// a malformed request end nothing; the connection serves on.
TEST_F(Http2Conformance, StreamState_5_1_FramesOnAStreamWeResetAreIgnored) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo", {{"content-length", "2"}}), false));
  ASSERT_TRUE(c->sendData(id, "longer", false));
  expectStreamError(*c, id, h2::kProtocolError);
  ASSERT_TRUE(c->sendHeaders(id, {{"x-trailer", "late"}}, true));
  expectServes(*c);
  EXPECT_FALSE(c->goAway().has_value()) << c->describe();
}

TEST_F(Http2Conformance, StreamState_5_1_DataAfterEndStreamIsStreamClosed) {
  auto c = connect();
  // /slow keeps the stream half-closed (remote) while DATA arrives.
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendData(id, "late", true));
  // 6.1 asks for a stream error STREAM_CLOSED; nghttp2 makes it a connection
  // error (allowed by 5.4.1).
  expectConnectionError(*c, h2::kStreamClosed);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, StreamState_5_1_HeadersAfterEndStreamIsStreamClosed) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendHeaders(id, {{"x-trailer", "late"}}, true));
  // 5.1 half-closed (remote): a stream error STREAM_CLOSED, made a
  // connection error by nghttp2 (allowed by 5.4.1).
  expectConnectionError(*c, h2::kStreamClosed);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, StreamState_6_1_DataOnStream0IsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendData(0, "zero", false));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, StreamState_6_2_HeadersOnStream0IsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendHeaders(0, h2::requestHeaders("GET", "/"), true));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, StreamState_6_4_RstStreamOnStream0IsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendRst(0, h2::kCancel));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, StreamState_6_4_RstStreamOfWrongLengthIsFrameSizeError) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendFrame(h2::kRstStream, 0, id, "123"));
  expectConnectionError(*c, h2::kFrameSizeError);
}

TEST_F(Http2Conformance, StreamState_6_3_PriorityOfWrongLengthIsFrameSizeError) {
  auto c = connect();
  // RFC 9113 6.3: a stream error; nghttp2 may make it a connection error.
  ASSERT_TRUE(c->sendFrame(h2::kPriority, 0, 1, "1234"));
  c->waitFor([&] { return c->stream(1).rst.has_value() || c->goAway().has_value(); });
  const uint32_t code = c->goAway() ? c->goAway()->error_code : c->stream(1).rst.value_or(0);
  EXPECT_EQ(errorName(code), "FRAME_SIZE_ERROR") << c->describe();
}

TEST_F(Http2Conformance, StreamState_5_3_1_HeadersDependingOnItselfIsProtocolError) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  std::string payload = h2::be32(id) + std::string(1, '\x10') + c->deflate(h2::requestHeaders("GET", "/self"));
  ASSERT_TRUE(c->sendFrame(h2::kHeaders, h2::kEndHeaders | h2::kEndStream | h2::kPriorityFlag, id, payload));
  // A stream error in 5.3.1; nghttp2 ends the connection (allowed by 5.4.1).
  expectConnectionError(*c, h2::kProtocolError);
  EXPECT_EQ(up_.requestCount(), 0u);
  expectFreshConnectionServes();
}

// 5.1.2: a HEADERS over the advertised SETTINGS_MAX_CONCURRENT_STREAMS is a
// stream error, PROTOCOL_ERROR or REFUSED_STREAM (the latter invites a
// retry). nghttp2 refuses the stream while our SETTINGS is not yet
// acknowledged, and ends the connection (PROTOCOL_ERROR, allowed by 5.4.1)
// once it is: the two tests below pin both.
TEST_F(Http2Conformance, StreamState_5_1_2_StreamsOverTheLimitBeforeTheSettingsAckAreRefused) {
  start("codec: auto\nhttp2: {max_concurrent_streams: 3}\n"s + routeAllTo("c1"));
  h2::ClientOptions opts;
  opts.ack_settings = false;
  Client c(port_, opts);
  ASSERT_TRUE(c.handshake()) << c.describe();
  ASSERT_EQ(c.serverSettings().at(h2::kMaxConcurrentStreams), 3u);
  std::vector<uint32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(c.request(h2::requestHeaders("GET", "/slow")));
  expectStreamError(c, ids[3], h2::kRefusedStream);
  for (int i = 0; i < 3; ++i) {
    const auto& r = c.waitForResponse(ids[i]);
    EXPECT_EQ(r.status(), 200) << "stream " << ids[i] << ": " << r.describe();
  }
  EXPECT_EQ(up_.requestCount(), 3u);
  // REFUSED_STREAM means "not processed": a retry on the same connection is served.
  expectServes(c, "/retried");
}

TEST_F(Http2Conformance, StreamState_5_1_2_StreamsOverAnAcknowledgedLimitEndTheConnection) {
  start("codec: auto\nhttp2: {max_concurrent_streams: 3}\n"s + routeAllTo("c1"));
  auto c = connect();
  ASSERT_TRUE(c->waitFor([&] { return c->settingsAcks() >= 1; }));
  std::vector<uint32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(c->request(h2::requestHeaders("GET", "/slow")));
  expectConnectionError(*c, h2::kProtocolError);
  // The three within the limit may have been processed; the fourth was not.
  EXPECT_EQ(c->goAway()->last_stream_id, ids[2]);
  expectFreshConnectionServes();
}

// ---- 6.9 Flow control ----

TEST_F(Http2Conformance, Flow_6_9_WindowUpdateOfZeroOnTheConnectionIsProtocolError) {
  auto c = connect();
  ASSERT_TRUE(c->sendWindowUpdate(0, 0));
  expectConnectionError(*c, h2::kProtocolError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Flow_6_9_WindowUpdateOfZeroOnAStreamIsProtocolError) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendWindowUpdate(id, 0));
  // 6.9: a stream error; nghttp2 ends the connection (allowed by 5.4.1).
  expectConnectionError(*c, h2::kProtocolError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Flow_6_9_WindowUpdateOfWrongLengthIsFrameSizeError) {
  auto c = connect();
  ASSERT_TRUE(c->sendFrame(h2::kWindowUpdate, 0, 0, "12345"));
  expectConnectionError(*c, h2::kFrameSizeError);
}

TEST_F(Http2Conformance, Flow_6_9_1_ConnectionWindowOverflowIsFlowControlError) {
  auto c = connect();
  // Our window at the server starts at 65535: this takes it past 2^31-1.
  ASSERT_TRUE(c->sendWindowUpdate(0, h2::kMaxWindow));
  expectConnectionError(*c, h2::kFlowControlError);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Flow_6_9_1_StreamWindowOverflowIsFlowControlError) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendWindowUpdate(id, h2::kMaxWindow - 65535));  // exactly the maximum: fine
  ASSERT_TRUE(c->sendWindowUpdate(id, 1));
  expectStreamError(*c, id, h2::kFlowControlError);
  expectServes(*c);
}

// Known deviation (nghttp2 1.52): 6.9.2 makes this a connection error
// (MUST); nghttp2 resets the overflowing stream with FLOW_CONTROL_ERROR and
// keeps the connection. The test states the RFC; run it with
// --gtest_also_run_disabled_tests.
TEST_F(Http2Conformance, DISABLED_Flow_6_9_2_InitialWindowSizeChangeOverflowingAStreamIsFlowControlError) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendWindowUpdate(id, h2::kMaxWindow - 65535));
  // Raising the initial window by one takes the open stream's window past 2^31-1.
  ASSERT_TRUE(c->sendSettings({{h2::kInitialWindowSize, 65536}}));
  expectConnectionError(*c, h2::kFlowControlError);
}

TEST_F(Http2Conformance, Flow_6_9_RequestBodyFlowsThroughTheWindows) {
  auto c = connect();
  const std::string body = patternBytes(31, 1 << 20);
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendBody(id, body, true)) << "the server stopped giving window back; " << c->describe();
  const auto& r = c->waitForResponse(id, 10s);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.header("x-body-bytes"), std::to_string(body.size()));
  EXPECT_EQ(r.body_bytes, body.size());
  EXPECT_TRUE(r.body == body) << "echoed body differs";
}

TEST_F(Http2Conformance, Flow_4_2_ResponseFramesRespectOurMaxFrameSize) {
  auto c = connect();
  const std::string body = patternBytes(32, 300000);
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendBody(id, body, true)) << c->describe();
  const auto& r = c->waitForResponse(id, 10s);
  EXPECT_EQ(r.body_bytes, body.size()) << r.describe();
  // We never raised SETTINGS_MAX_FRAME_SIZE from its initial 16384.
  EXPECT_LE(c->largestFrame(), 16384u);
  EXPECT_GT(c->framesOfType(h2::kData), 18u);
}

// Sends more DATA than the stream's window while the proxy holds the body
// (the upstream cannot be reached yet, so the body is not taken and the
// window is not given back).
TEST_F(Http2Conformance, Flow_6_9_1_DataBeyondTheWindowIsFlowControlError) {
  // An upstream whose accept queue is full: the proxy's connect hangs.
  Fd stalled = listenLoopback(0);
  int err = 0;
  Fd filler = connectLoopback(localPort(stalled.get()), 2s, &err);
  ASSERT_TRUE(filler.valid());
  const std::string yaml = renderConfig(
      httpConfig("codec: auto\n"s + routeByPrefix({{"/stall", "{cluster: stall}"}, {"/", "{cluster: c1}"}}),
                 {cluster("c1", {up_.port()}), ClusterSpec{"stall", "10s", {localPort(stalled.get())}, {}}}));
  proxy_ = std::make_unique<ProxyProcess>(yaml);
  ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/stall"), false));
  const std::string body(4 << 20, 'b');
  uint64_t sent = 0;
  EXPECT_FALSE(c->sendBody(id, body, false, 10s, 300ms, &sent)) << "the proxy took 4 MiB for an unreachable upstream";
  EXPECT_LT(sent, 2u << 20) << "the proxy kept giving window back";
  ASSERT_LE(c->sendWindow(id), 0);
  // One frame past the window: a stream error (a connection error would do too, 5.4.1).
  ASSERT_TRUE(c->sendData(id, std::string(1000, 'x'), false));
  expectStreamError(*c, id, h2::kFlowControlError);
  expectServes(*c);
}

// ---- 4.3 Header compression ----

TEST_F(Http2Conformance, Hpack_4_3_HandBuiltLiteralBlockIsServed) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(
      c->sendHeaderBlock(id, hpack::literalBlock(h2::requestHeaders("GET", "/literal", {{"x-hand", "built"}})), true));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "c1 GET /literal\n");
  EXPECT_EQ(up_.lastRequest()->header("x-hand"), "built");
  EXPECT_EQ(up_.lastRequest()->header("host"), "example.com");
}

TEST_F(Http2Conformance, Hpack_4_3_StaticAndDynamicTableAcrossStreams) {
  auto c = connect();
  // Stream 1: :method GET (static 2), :scheme http (static 6), :path from
  // the static name (4), :authority and x-table entered into the dynamic table.
  const std::string first = hpack::indexed(2) + hpack::indexed(6) + hpack::literalIndexedName(4, "/one") +
                            hpack::literalWithIndexing(":authority", "example.com") +
                            hpack::literalWithIndexing("x-table", "remembered");
  ASSERT_TRUE(c->sendHeaderBlock(1, first, true));
  EXPECT_EQ(c->waitForResponse(1).status(), 200);
  EXPECT_EQ(up_.lastRequest()->header("x-table"), "remembered");
  // Stream 3: both from the dynamic table (62 is the newest: x-table).
  const std::string second = hpack::indexed(2) + hpack::indexed(6) + hpack::literalIndexedName(4, "/two") +
                             hpack::indexed(63) + hpack::indexed(62);
  ASSERT_TRUE(c->sendHeaderBlock(3, second, true));
  const auto& r = c->waitForResponse(3);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "c1 GET /two\n");
  EXPECT_EQ(up_.lastRequest()->header("x-table"), "remembered");
  EXPECT_EQ(up_.lastRequest()->header("host"), "example.com");
}

TEST_F(Http2Conformance, Hpack_4_3_InvalidIndexIsCompressionError) {
  auto c = connect();
  // The dynamic table is empty: 70 names nothing.
  ASSERT_TRUE(c->sendHeaderBlock(1, hpack::indexed(2) + hpack::indexed(70), true));
  expectConnectionError(*c, h2::kCompressionError);
  EXPECT_EQ(up_.requestCount(), 0u);
  expectFreshConnectionServes();
}

TEST_F(Http2Conformance, Hpack_4_3_IndexZeroIsCompressionError) {
  auto c = connect();
  ASSERT_TRUE(c->sendHeaderBlock(1, hpack::indexed(2) + hpack::indexed(0), true));
  expectConnectionError(*c, h2::kCompressionError);
}

TEST_F(Http2Conformance, Hpack_4_3_TruncatedBlockIsCompressionError) {
  auto c = connect();
  // A literal that declares 100 bytes of value and carries 3.
  ASSERT_TRUE(c->sendHeaderBlock(1,
                                 hpack::indexed(2) + std::string("\x00\x01x\x64"
                                                                 "abc",
                                                                 7),
                                 true));
  expectConnectionError(*c, h2::kCompressionError);
}

TEST_F(Http2Conformance, Hpack_4_3_TableSizeUpdateOverTheSettingIsCompressionError) {
  auto c = connect();
  // SETTINGS_HEADER_TABLE_SIZE is 4096 (the server sent no other).
  ASSERT_TRUE(
      c->sendHeaderBlock(1, hpack::tableSizeUpdate(8192) + hpack::literalBlock(h2::requestHeaders("GET", "/")), true));
  expectConnectionError(*c, h2::kCompressionError);
}

TEST_F(Http2Conformance, Hpack_4_3_TableSizeUpdateAfterAFieldIsCompressionError) {
  auto c = connect();
  ASSERT_TRUE(
      c->sendHeaderBlock(1,
                         hpack::indexed(2) + hpack::tableSizeUpdate(0) +
                             hpack::literalBlock({{":scheme", "http"}, {":authority", "example.com"}, {":path", "/"}}),
                         true));
  expectConnectionError(*c, h2::kCompressionError);
}

// RFC 7541 4.2 / RFC 9113 6.5.2: with SETTINGS_HEADER_TABLE_SIZE 0 the
// server's encoder may use no dynamic table (our decoder is held to 0 once
// the SETTINGS is acknowledged, so it fails on any entry).
TEST_F(Http2Conformance, Hpack_6_5_2_ResponsesHonourAHeaderTableSizeOfZero) {
  auto c = connect({{h2::kHeaderTableSize, 0}});
  ASSERT_TRUE(c->waitFor([&] { return c->settingsAcks() >= 1; })) << c->describe();
  for (int i = 0; i < 3; ++i) {
    const uint32_t id = c->request(h2::requestHeaders("GET", "/t" + std::to_string(i)));
    const auto& r = c->waitForResponse(id);
    EXPECT_EQ(r.status(), 200) << r.describe();
    EXPECT_FALSE(r.header(":decode-error").has_value()) << r.describe();
    EXPECT_EQ(r.header("x-upstream"), "c1") << r.describe();
  }
}

// ---- 8 HTTP message rules ----

// Each field in `bad` makes the request malformed: RST_STREAM(PROTOCOL_ERROR),
// the upstream sees nothing of it, and the connection serves the next request.
// Requests the upstream saw, but for /slow (which tests keep in flight).
size_t requestsButSlow(const HttpUpstream& up) {
  size_t n = 0;
  for (const auto& r : up.requests()) n += r.target != "/slow";
  return n;
}

// The block is a malformed request (8.1.1): RST_STREAM PROTOCOL_ERROR,
// nothing of it reaches the upstream, and the connection goes on.
void expectMalformed(Client& c, HttpUpstream& up, const std::string& what, const std::string& block) {
  const size_t before = requestsButSlow(up);
  const uint32_t id = c.nextStreamId();
  ASSERT_TRUE(c.sendHeaderBlock(id, block, true)) << what;
  auto rst = c.waitForRst(id);
  ASSERT_TRUE(rst.has_value()) << what << ": expected RST_STREAM PROTOCOL_ERROR; stream " << id << ": "
                               << c.stream(id).describe() << "; " << c.describe();
  EXPECT_EQ(errorName(*rst), "PROTOCOL_ERROR") << what;
  EXPECT_FALSE(c.goAway().has_value()) << what << ": " << c.describe();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(requestsButSlow(up), before) << what << " reached the upstream: " << up.lastRequest()->describe();
}

TEST_F(Http2Conformance, Message_8_2_2_ConnectionSpecificFieldsAreMalformed) {
  auto c = connect();
  // Another stream in flight on the same connection must not be disturbed.
  const uint32_t slow = c->request(h2::requestHeaders("GET", "/slow"));
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{{"connection", "keep-alive"},
                                                                             {"keep-alive", "timeout=5"},
                                                                             {"proxy-connection", "keep-alive"},
                                                                             {"transfer-encoding", "chunked"},
                                                                             {"upgrade", "websocket"},
                                                                             {"te", "gzip"}}) {
    SCOPED_TRACE(name);
    expectMalformed(*c, up_, name + ": " + value,
                    hpack::literalBlock(h2::requestHeaders("GET", "/bad", {{name, value}})));
  }
  const auto& r = c->waitForResponse(slow, 3s);
  EXPECT_EQ(r.status(), 200) << "the stream in flight was disturbed: " << r.describe();
  EXPECT_EQ(r.body, "slow\n");
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_2_2_TeTrailersIsAllowed) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(
      c->sendHeaderBlock(id, hpack::literalBlock(h2::requestHeaders("GET", "/te", {{"te", "trailers"}})), true));
  EXPECT_EQ(c->waitForResponse(id).status(), 200) << c->stream(id).describe();
}

TEST_F(Http2Conformance, Message_8_2_1_FieldNamesMustBeLowercase) {
  auto c = connect();
  expectMalformed(*c, up_, "X-Upper", hpack::literalBlock(h2::requestHeaders("GET", "/bad", {{"X-Upper", "1"}})));
  expectMalformed(
      *c, up_, ":Path",
      hpack::literalBlock({{":method", "GET"}, {":scheme", "http"}, {":authority", "example.com"}, {":Path", "/"}}));
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_2_1_InvalidCharactersInAFieldNameAreMalformed) {
  auto c = connect();
  for (std::string name : {std::string("x space"), std::string("x:colon"),
                           std::string("x\x01"
                                       "ctl",
                                       5),
                           std::string("x\x7f"
                                       "del",
                                       5),
                           std::string("")}) {
    SCOPED_TRACE(::testing::PrintToString(name));
    expectMalformed(*c, up_, "name " + ::testing::PrintToString(name),
                    hpack::literalBlock(h2::requestHeaders("GET", "/bad", {{name, "v"}})));
  }
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_2_1_InvalidCharactersInAFieldValueAreMalformed) {
  auto c = connect();
  for (std::string value : {std::string("a\rb"), std::string("a\nb"), std::string("a\0b", 3), std::string(" lead"),
                            std::string("trail\t")}) {
    SCOPED_TRACE(::testing::PrintToString(value));
    expectMalformed(*c, up_, "value " + ::testing::PrintToString(value),
                    hpack::literalBlock(h2::requestHeaders("GET", "/bad", {{"x-v", value}})));
  }
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_3_1_PseudoHeaderRulesAreEnforced) {
  auto c = connect();
  const HeaderList full = h2::requestHeaders("GET", "/bad");
  auto without = [&](std::string_view name) {
    HeaderList h;
    for (const auto& f : full)
      if (f.first != name) h.push_back(f);
    return h;
  };
  expectMalformed(*c, up_, "no :method", hpack::literalBlock(without(":method")));
  expectMalformed(*c, up_, "no :path", hpack::literalBlock(without(":path")));
  expectMalformed(*c, up_, "no :scheme", hpack::literalBlock(without(":scheme")));
  HeaderList empty_path = without(":path");
  empty_path.emplace_back(":path", "");
  expectMalformed(*c, up_, "empty :path", hpack::literalBlock(empty_path));
  HeaderList twice = full;
  twice.emplace_back(":path", "/bad");
  expectMalformed(*c, up_, ":path twice", hpack::literalBlock(twice));
  HeaderList after = without(":path");
  after.emplace_back("x-regular", "1");
  after.emplace_back(":path", "/bad");
  expectMalformed(*c, up_, "pseudo-header after a regular field", hpack::literalBlock(after));
  HeaderList unknown = full;
  unknown.emplace(unknown.begin(), ":foo", "bar");
  expectMalformed(*c, up_, "unknown pseudo-header", hpack::literalBlock(unknown));
  HeaderList status = full;
  status.emplace(status.begin(), ":status", "200");
  expectMalformed(*c, up_, "response pseudo-header in a request", hpack::literalBlock(status));
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_3_1_EmptyHeaderBlockIsMalformed) {
  auto c = connect();
  expectMalformed(*c, up_, "no fields at all", "");
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_1_TrailersWithoutEndStreamAreMalformed) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendData(id, "body", false));
  ASSERT_TRUE(c->sendHeaderBlock(id, hpack::literal("x-trailer", "1"), false));
  expectStreamError(*c, id, h2::kProtocolError);
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_1_PseudoHeaderInTrailersIsMalformed) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendData(id, "body", false));
  ASSERT_TRUE(c->sendHeaderBlock(id, hpack::literal(":path", "/x"), true));
  expectStreamError(*c, id, h2::kProtocolError);
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_1_RequestTrailersReachTheUpstream) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo"), false));
  ASSERT_TRUE(c->sendData(id, "with trailers", false));
  ASSERT_TRUE(c->sendHeaderBlock(id, hpack::literal("x-checksum", "abc"), true));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "with trailers");
  auto last = up_.lastRequest();
  ASSERT_TRUE(last);
  EXPECT_EQ(findHeader(last->trailers, "x-checksum"), "abc") << last->describe();
}

TEST_F(Http2Conformance, Message_8_1_1_ContentLengthDisagreeingWithDataIsMalformed) {
  auto c = connect();
  auto send = [&](const char* method, const char* length, std::optional<std::string> body) {
    const uint32_t id = c->nextStreamId();
    EXPECT_TRUE(c->sendHeaders(id, h2::requestHeaders(method, "/echo", {{"content-length", length}}), !body));
    if (body) {
      EXPECT_TRUE(c->sendData(id, *body, true));
    }
    return id;
  };
  {
    SCOPED_TRACE("fewer bytes than content-length");
    expectStreamError(*c, send("POST", "10", "short"), h2::kProtocolError);
  }
  {
    SCOPED_TRACE("more bytes than content-length");
    expectStreamError(*c, send("POST", "2", "longer"), h2::kProtocolError);
  }
  {
    SCOPED_TRACE("content-length with END_STREAM on HEADERS");
    expectStreamError(*c, send("GET", "4", std::nullopt), h2::kProtocolError);
  }
  for (const auto& r : up_.requests())
    EXPECT_FALSE(r.body_complete && r.body_bytes > 0)
        << "a malformed body reached the upstream whole: " << r.describe();
  expectServes(*c);
  // The same with a matching length is served.
  EXPECT_EQ(c->waitForResponse(send("POST", "5", "exact")).body, "exact");
}

TEST_F(Http2Conformance, Message_8_3_1_HostAndAuthorityMustAgree) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("GET", "/host", {{"host", "other.example.com"}}), true));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 400) << r.describe();
  EXPECT_EQ(up_.requestCount(), 0u);
  expectServes(*c);
  // The same name in another case agrees.
  const uint32_t same = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(same, h2::requestHeaders("GET", "/same", {{"host", "EXAMPLE.com"}}), true));
  EXPECT_EQ(c->waitForResponse(same).status(), 200) << c->stream(same).describe();
}

// 8.5: CONNECT (no :scheme, no :path) is valid HTTP/2 but Sluice builds no
// tunnels over streams: 501, nothing upstream, the connection goes on.
TEST_F(Http2Conformance, Message_8_5_ConnectIsNotImplemented) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(id, hpack::literalBlock({{":method", "CONNECT"}, {":authority", "db.example:5432"}}),
                                 false));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 501) << r.describe();
  EXPECT_EQ(up_.requestCount(), 0u);
  expectServes(*c);
}

// 8.3.1 (no userinfo) and the Host rule HTTP/1 follows (RFC 9112 3.2,
// proxy/http/authority.h): an authority that is not uri-host[:port] is a 400
// for its stream alone.
TEST_F(Http2Conformance, Message_8_3_1_InvalidAuthorityIsRefused) {
  auto c = connect();
  for (const char* authority : {"user@example.com", "a,b.example", "example.com:99999", "%65xample.com"}) {
    SCOPED_TRACE(authority);
    const uint32_t id = c->nextStreamId();
    ASSERT_TRUE(c->sendHeaderBlock(
        id, hpack::literalBlock({{":method", "GET"}, {":scheme", "http"}, {":authority", authority}, {":path", "/a"}}),
        true));
    const auto& r = c->waitForResponse(id);
    EXPECT_EQ(r.status(), 400) << r.describe();
  }
  EXPECT_EQ(up_.requestCount(), 0u);
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_3_1_HostStandsInForAMissingAuthority) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaderBlock(
      id,
      hpack::literalBlock({{":method", "GET"}, {":scheme", "http"}, {":path", "/h"}, {"host", "from-host.example"}}),
      true));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(up_.lastRequest()->header("host"), "from-host.example");
  EXPECT_EQ(countHeader(up_.lastRequest()->headers, "host"), 1u);
}

TEST_F(Http2Conformance, Message_8_3_1_NoAuthorityAndNoHostIsRefused) {
  // Nothing for an HTTP/1 Host: nghttp2 takes the request for malformed
  // (before the codec's own 400 for it) and resets the stream.
  auto c = connect();
  expectMalformed(*c, up_, "no :authority, no host",
                  hpack::literalBlock({{":method", "GET"}, {":scheme", "http"}, {":path", "/h"}}));
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_1_ExpectContinueGetsAnInterim100) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  ASSERT_TRUE(c->sendHeaders(id, h2::requestHeaders("POST", "/echo", {{"expect", "100-continue"}}), false));
  // The 100 comes before we send a byte of the body.
  ASSERT_TRUE(c->waitFor([&] { return !c->stream(id).interim.empty(); })) << c->describe();
  EXPECT_EQ(findHeader(c->stream(id).interim[0], ":status"), "100");
  ASSERT_TRUE(c->sendData(id, "continued", true));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "continued");
}

TEST_F(Http2Conformance, Message_8_1_HeadResponseHasNoBody) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("HEAD", "/head"));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_TRUE(r.end_stream);
  EXPECT_EQ(r.body_bytes, 0u) << r.describe();
  EXPECT_FALSE(r.rst.has_value()) << r.describe();
  expectServes(*c);
}

TEST_F(Http2Conformance, Message_8_2_3_CookieCrumbsAreJoinedForHttp1) {
  auto c = connect();
  const uint32_t id = c->nextStreamId();
  // Cookie crumbs split across literal fields (8.2.3), with another field between.
  ASSERT_TRUE(c->sendHeaderBlock(
      id,
      hpack::literalBlock(h2::requestHeaders(
          "GET", "/cookies", {{"cookie", "a=1"}, {"cookie", "b=2"}, {"x-mid", "m"}, {"cookie", "c=3"}})),
      true));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  auto last = up_.lastRequest();
  ASSERT_TRUE(last);
  EXPECT_EQ(countHeader(last->headers, "cookie"), 1u) << last->describe();
  EXPECT_EQ(last->header("cookie"), "a=1; b=2; c=3") << last->describe();
  EXPECT_EQ(last->header("x-mid"), "m");
}

TEST_F(Http2Conformance, Message_8_4_PushPromiseFromAClientIsProtocolError) {
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/slow"));
  ASSERT_TRUE(c->sendFrame(h2::kPushPromise, h2::kEndHeaders, id,
                           h2::be32(2) + hpack::literalBlock(h2::requestHeaders("GET", "/pushed"))));
  expectConnectionError(*c, h2::kProtocolError);
}

TEST_F(Http2Conformance, Message_8_2_2_ResponseConnectionFieldsAreDropped) {
  // An HTTP/1 upstream's hop-by-hop fields never reach an HTTP/2 client.
  HttpUpstream up(chunkedWithTrailers({"hello ", "world"}, {{"X-Trailer", "t"}}));
  proxy_ = std::make_unique<ProxyProcess>(
      renderConfig(httpConfig("codec: auto\n"s + routeAllTo("c1"), {cluster("c1", {up.port()})})));
  ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  auto c = connect();
  const uint32_t id = c->request(h2::requestHeaders("GET", "/chunked"));
  const auto& r = c->waitForResponse(id);
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.body, "hello world");
  for (const auto& [n, v] : r.headers) {
    EXPECT_NE(n, "transfer-encoding");
    EXPECT_NE(n, "connection");
    EXPECT_NE(n, "keep-alive");
    for (char ch : n) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << "field name not lower-cased: " << n;
  }
  EXPECT_EQ(findHeader(r.trailers, "x-trailer"), "t") << r.describe();
}

TEST_F(Http2Conformance, Streams_5_1_ManyConcurrentStreamsOnOneConnection) {
  auto c = connect();
  std::vector<uint32_t> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(c->request(h2::requestHeaders("GET", "/many/" + std::to_string(i))));
  for (int i = 0; i < 50; ++i) {
    const auto& r = c->waitForResponse(ids[i]);
    EXPECT_EQ(r.status(), 200) << r.describe();
    EXPECT_EQ(r.body, "c1 GET /many/" + std::to_string(i) + "\n");
  }
  EXPECT_FALSE(c->goAway().has_value());
}

}  // namespace
}  // namespace sluice::itest
