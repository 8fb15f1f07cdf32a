// Http1ServerCodec: the per-stream part of the codec contract HTTP/2 shares
// (error scope, resetStream, readDisable, goAway), as HTTP/1 implements it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy/http/http1_codec.h"

namespace sluice::http {
namespace {

struct Harness : CodecOutput, ServerCodecCallbacks, MessageDecoder {
  Harness() : codec(makeHttp1ServerCodec(*this, *this, CodecLimits{})) {}

  void writeBytes(net::Buffer& data, bool end_stream) override {
    wire += data.toString();
    data.clear();
  }
  void readDisable(bool disable) override { read_disabled += disable ? 1 : -1; }
  MessageDecoder& onNewRequest(MessageEncoder& response) override {
    ++requests;
    encoder = &response;
    return *this;
  }
  void decodeHeaders(HeaderMap&, bool) override {}
  void decodeData(net::Buffer& data, bool) override {
    body += data.toString();
    data.clear();
  }
  void decodeTrailers(HeaderMap&) override {}

  std::optional<CodecError> feed(std::string_view bytes) {
    input.add(bytes);
    return codec->dispatch(input);
  }
  void respond() {
    HeaderMap h;
    h.setStatus(200);
    h.add("content-length", "0");
    encoder->encodeHeaders(h, true);
  }

  std::unique_ptr<ServerCodec> codec;
  net::Buffer input;
  MessageEncoder* encoder = nullptr;
  std::string wire;
  std::string body;
  int requests = 0;
  int read_disabled = 0;
};

TEST(Http1ServerCodecStreamTest, AHeaderErrorFailsTheConnectionABodyErrorItsStream) {
  Harness head;
  auto err = head.feed("GET / HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->scope, ErrorScope::Connection);
  EXPECT_EQ(err->stream, nullptr);
  EXPECT_EQ(head.requests, 0);

  Harness body;
  err = body.feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  ASSERT_TRUE(err);
  EXPECT_EQ(body.requests, 1);
  EXPECT_EQ(err->scope, ErrorScope::Stream);
  EXPECT_EQ(err->stream, body.encoder);
}

TEST(Http1ServerCodecStreamTest, ResetStreamStopsParsingAndDropsItsResponse) {
  Harness h;
  EXPECT_FALSE(h.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"));
  EXPECT_EQ(h.body, "01234");
  h.codec->resetStream(*h.encoder, StreamResetReason::LocalReset);
  h.codec->resetStream(*h.encoder, StreamResetReason::LocalReset);  // idempotent
  EXPECT_FALSE(h.feed("56789GET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(h.body, "01234") << "nothing of a reset stream's request is decoded";
  EXPECT_EQ(h.requests, 1) << "nor a request pipelined behind it";
  h.respond();
  EXPECT_EQ(h.wire, "") << "a reset stream's response is cut";
}

TEST(Http1ServerCodecStreamTest, ReadDisableStopsTheConnection) {
  Harness h;
  EXPECT_FALSE(h.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n"));
  h.codec->readDisable(*h.encoder, true);
  EXPECT_EQ(h.read_disabled, 1);
  h.codec->readDisable(*h.encoder, false);
  EXPECT_EQ(h.read_disabled, 0);
}

TEST(Http1ServerCodecStreamTest, GoAwayFinishesTheStreamInFlightAndTakesNoOther) {
  Harness h;
  EXPECT_FALSE(h.feed("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
  h.codec->goAway();
  h.respond();
  EXPECT_NE(h.wire.find("200"), std::string::npos);
  EXPECT_NE(h.wire.find("connection: close"), std::string::npos);
  EXPECT_FALSE(h.feed("GET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(h.requests, 1);

  Harness idle;
  idle.codec->goAway();
  EXPECT_FALSE(idle.feed("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(idle.requests, 0);
}

}  // namespace
}  // namespace sluice::http
