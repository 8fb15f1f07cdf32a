// gRPC facts the proxy relies on (proxy/http/grpc.h): which requests are
// gRPC, grpc-timeout's units, grpc-status, the HTTP-to-gRPC status mapping
// and grpc-message's percent-encoding.

#include "proxy/http/grpc.h"

#include <gtest/gtest.h>

namespace sluice::http::grpc {
namespace {

using std::chrono::milliseconds;

HeaderMap withContentType(std::string_view ct) {
  HeaderMap h;
  h.add("content-type", ct);
  return h;
}

TEST(Grpc, ContentTypeSaysWhatIsGrpc) {
  EXPECT_TRUE(isGrpc(withContentType("application/grpc")));
  EXPECT_TRUE(isGrpc(withContentType("application/grpc+proto")));
  EXPECT_TRUE(isGrpc(withContentType("Application/GRPC;charset=utf-8")));
  EXPECT_FALSE(isGrpc(withContentType("application/grpcx")));
  EXPECT_FALSE(isGrpc(withContentType("application/json")));
  EXPECT_FALSE(isGrpc(HeaderMap{}));
}

TEST(Grpc, TimeoutUnitsAndBounds) {
  EXPECT_EQ(parseTimeout("1H"), milliseconds(3600000));
  EXPECT_EQ(parseTimeout("2M"), milliseconds(120000));
  EXPECT_EQ(parseTimeout("3S"), milliseconds(3000));
  EXPECT_EQ(parseTimeout("250m"), milliseconds(250));
  EXPECT_EQ(parseTimeout("1500u"), milliseconds(2)) << "sub-millisecond deadlines round up";
  EXPECT_EQ(parseTimeout("1n"), milliseconds(1));
  EXPECT_EQ(parseTimeout("99999999S"), milliseconds(99999999000));
  EXPECT_FALSE(parseTimeout("123456789S")) << "at most 8 digits";
  EXPECT_FALSE(parseTimeout("S"));
  EXPECT_FALSE(parseTimeout("10"));
  EXPECT_FALSE(parseTimeout("10s"));
  EXPECT_FALSE(parseTimeout("-1S"));
  EXPECT_FALSE(parseTimeout(" 1S"));
}

TEST(Grpc, HttpStatusMapsAsGrpcSays) {
  EXPECT_EQ(statusForHttp(400), kInternal);
  EXPECT_EQ(statusForHttp(401), kUnauthenticated);
  EXPECT_EQ(statusForHttp(403), kPermissionDenied);
  EXPECT_EQ(statusForHttp(404), kUnimplemented);
  for (int s : {429, 502, 503, 504}) EXPECT_EQ(statusForHttp(s), kUnavailable) << s;
  EXPECT_EQ(statusForHttp(500), kUnknown);
  EXPECT_EQ(statusForHttp(408), kUnknown);
}

TEST(Grpc, StatusIsReadOnlyWhenValid) {
  HeaderMap h;
  EXPECT_FALSE(statusOf(h));
  h.set("grpc-status", "14");
  EXPECT_EQ(statusOf(h), 14);
  h.set("grpc-status", "17");
  EXPECT_FALSE(statusOf(h));
  h.set("grpc-status", "1x");
  EXPECT_FALSE(statusOf(h));
}

TEST(Grpc, MessageIsPercentEncoded) {
  EXPECT_EQ(encodeMessage("no healthy upstream"), "no healthy upstream");
  EXPECT_EQ(encodeMessage("50% off\n"), "50%25 off%0A");
  EXPECT_EQ(encodeMessage("caf\xc3\xa9"), "caf%C3%A9");
}

}  // namespace
}  // namespace sluice::http::grpc
