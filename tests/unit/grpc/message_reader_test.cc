// gRPC's length-prefixed messages read out of DATA frames that do not line
// up with them: split anywhere, several in one frame, over the bound, or
// compressed when nothing asked for compression.
#include "proxy/grpc/message_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/grpc/request.h"

namespace sluice::grpc {
namespace {

using namespace std::string_literals;

std::string framed(const std::string& message) {
  net::Buffer out;
  frameMessage(message, out);
  return out.toString();
}

std::vector<std::string> drain(MessageReader& r) {
  std::vector<std::string> out;
  while (auto m = r.next()) out.push_back(*m);
  return out;
}

TEST(GrpcMessageReaderTest, FramingIsAZeroFlagAndABigEndianLength) {
  EXPECT_EQ(framed("abc"), "\0\0\0\0\x03"s + "abc");
  EXPECT_EQ(framed(std::string(0x10203, 'x')).substr(0, 5), "\0\0\x01\x02\x03"s);
  EXPECT_EQ(framed(""), "\0\0\0\0\0"s);
}

TEST(GrpcMessageReaderTest, AMessageSplitAtEveryByteComesOutWhole) {
  const std::string wire = framed("hello") + framed("") + framed(std::string(300, 'z'));
  MessageReader r(1024);
  for (char c : wire) {
    ASSERT_TRUE(r.feed(std::string_view(&c, 1)));
  }
  EXPECT_EQ(drain(r), (std::vector<std::string>{"hello", "", std::string(300, 'z')}));
  EXPECT_FALSE(r.midMessage());
}

TEST(GrpcMessageReaderTest, SeveralMessagesInOneFrameAndOneAcrossTheNext) {
  const std::string wire = framed("one") + framed("two") + framed("three");
  MessageReader r(1024);
  const size_t cut = wire.size() - 3;  // inside "three"
  ASSERT_TRUE(r.feed(std::string_view(wire).substr(0, cut)));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(r.midMessage()) << "the stream may not end here";
  ASSERT_TRUE(r.feed(std::string_view(wire).substr(cut)));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"three"}));
  EXPECT_FALSE(r.midMessage());
}

TEST(GrpcMessageReaderTest, APrefixCutShortIsMidMessage) {
  MessageReader r(1024);
  ASSERT_TRUE(r.feed("\0\0"s));
  EXPECT_TRUE(r.midMessage());
  EXPECT_FALSE(r.next());
}

TEST(GrpcMessageReaderTest, AMessageOverTheBoundFailsFromItsPrefixAlone) {
  MessageReader r(16);
  ASSERT_TRUE(r.feed(framed(std::string(16, 'a'))));
  EXPECT_EQ(drain(r).size(), 1u) << "exactly the bound is fine";
  EXPECT_FALSE(r.feed("\0\0\0\0\x11"s)) << "17 bytes announced, none sent yet";
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->code, kResourceExhausted);
  EXPECT_EQ(r.error()->text(), "RESOURCE_EXHAUSTED: a message of 17 bytes, over the limit of 16");
  EXPECT_FALSE(r.feed(framed("x"))) << "nothing is read after a failure";
  EXPECT_FALSE(r.next());
}

TEST(GrpcMessageReaderTest, ACompressedMessageWeNeverAskedForFailsInternal) {
  MessageReader r(1024);
  ASSERT_TRUE(r.feed(framed("ok")));
  EXPECT_FALSE(r.feed("\x01\0\0\0\x02zz"s));
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->code, kInternal);
  EXPECT_NE(r.error()->message.find("compressed"), std::string::npos) << r.error()->message;
  EXPECT_EQ(drain(r), (std::vector<std::string>{"ok"})) << "what came before still counts";
}

TEST(GrpcMessageReaderTest, AnUnknownFlagIsNotAFrame) {
  MessageReader r(1024);
  EXPECT_FALSE(r.feed("\x80\0\0\0\0"s));
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->code, kInternal);
}

}  // namespace
}  // namespace sluice::grpc
