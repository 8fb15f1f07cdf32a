// grpc.health.v1 messages coded by hand: the framed request for a service,
// and the status of a framed response (unknown fields skipped, malformed
// frames refused).
#include <gtest/gtest.h>

#include <string>

#include "proxy/upstream/grpc_health_message.h"

namespace sluice::upstream::grpc_health {
namespace {

using namespace std::string_literals;

std::string frame(const std::string& message) {
  std::string out = "\0\0\0\0"s;
  out.push_back(static_cast<char>(message.size()));
  return out + message;
}

TEST(GrpcHealthMessageTest, RequestForAServiceIsField1) {
  EXPECT_EQ(encodeRequest("sluice.test.Echo"), frame("\x0a\x10sluice.test.Echo"s));
}

TEST(GrpcHealthMessageTest, RequestForTheWholeServerIsEmpty) { EXPECT_EQ(encodeRequest(""), "\0\0\0\0\0"s); }

TEST(GrpcHealthMessageTest, LongServiceNameTakesAVarintLength) {
  const std::string name(200, 'x');
  const std::string req = encodeRequest(name);
  ASSERT_EQ(req.size(), 5u + 3u + 200u);
  EXPECT_EQ(req.substr(0, 8), "\0\0\0\0\xcb\x0a\xc8\x01"s);
}

TEST(GrpcHealthMessageTest, ResponseStatus) {
  EXPECT_EQ(decodeResponseStatus(frame("\x08\x01"s)), kServing);
  EXPECT_EQ(decodeResponseStatus(frame("\x08\x02"s)), 2u);
  EXPECT_EQ(decodeResponseStatus(frame("")), 0u) << "absent: UNKNOWN, protobuf's default";
}

TEST(GrpcHealthMessageTest, UnknownFieldsAreSkipped) {
  // field 2 length-delimited "ab", field 3 fixed32, field 4 fixed64, then status.
  const std::string msg = "\x12\x02" "ab" "\x1d\x01\x02\x03\x04" "\x21\x01\x02\x03\x04\x05\x06\x07\x08" "\x08\x01"s;
  EXPECT_EQ(decodeResponseStatus(frame(msg)), kServing);
}

TEST(GrpcHealthMessageTest, MalformedFramesAreRefused) {
  EXPECT_FALSE(decodeResponseStatus(""));
  EXPECT_FALSE(decodeResponseStatus("\0\0\0"s));
  EXPECT_FALSE(decodeResponseStatus("\x01\0\0\0\x02\x08\x01"s)) << "compressed";
  EXPECT_FALSE(decodeResponseStatus("\0\0\0\0\x03\x08\x01"s)) << "shorter than its prefix says";
  EXPECT_FALSE(decodeResponseStatus(frame("\x08\x01"s) + "x")) << "more than one message";
  EXPECT_FALSE(decodeResponseStatus(frame("\x08"s))) << "truncated varint";
  EXPECT_FALSE(decodeResponseStatus(frame("\x12\x05" "ab"s))) << "length past the end";
  EXPECT_FALSE(decodeResponseStatus(frame("\x0b"s))) << "group wire type";
}

}  // namespace
}  // namespace sluice::upstream::grpc_health
