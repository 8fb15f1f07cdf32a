// A gRPC response's status from its header blocks: trailers, a
// trailers-only response, an HTTP status other than 200 (gRPC's
// HTTP-to-status table), grpc-message percent-decoded, grpc-status missing.
#include "proxy/grpc/response_status.h"

#include <gtest/gtest.h>

#include "proxy/grpc/request.h"

namespace sluice::grpc {
namespace {

http::HeaderMap head(int status, std::initializer_list<std::pair<const char*, const char*>> fields = {}) {
  http::HeaderMap h;
  h.setStatus(status);
  for (const auto& [n, v] : fields) h.add(n, v);
  return h;
}

TEST(GrpcResponseStatusTest, A200GrpcResponseGoesOn) {
  EXPECT_FALSE(statusOfHeaders(head(200, {{"content-type", "application/grpc"}}), false));
  EXPECT_FALSE(statusOfHeaders(head(200, {{"content-type", "application/grpc+proto"}}), false));
}

TEST(GrpcResponseStatusTest, Http503IsUnavailableAndOtherStatusesFollowTheTable) {
  const auto s = statusOfHeaders(head(503, {{"content-type", "text/plain"}}), false);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, kUnavailable);
  EXPECT_EQ(s->text(), "UNAVAILABLE: HTTP status 503");
  EXPECT_EQ(statusOfHeaders(head(404), true)->code, kUnimplemented);
  EXPECT_EQ(statusOfHeaders(head(401), true)->code, kUnauthenticated);
  EXPECT_EQ(statusOfHeaders(head(403), true)->code, kPermissionDenied);
  EXPECT_EQ(statusOfHeaders(head(400), true)->code, kInternal);
  EXPECT_EQ(statusOfHeaders(head(429), true)->code, kUnavailable);
  EXPECT_EQ(statusOfHeaders(head(500), true)->code, kUnknown);
}

TEST(GrpcResponseStatusTest, TrailersOnlyCarriesTheStatusInItsHeaders) {
  const auto s = statusOfHeaders(
      head(200, {{"content-type", "application/grpc"}, {"grpc-status", "16"}, {"grpc-message", "bad%20token"}}), true);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, kUnauthenticated);
  EXPECT_EQ(s->text(), "UNAUTHENTICATED: bad token");
  const auto ok = statusOfHeaders(head(200, {{"content-type", "application/grpc"}, {"grpc-status", "0"}}), true);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->ok());
}

TEST(GrpcResponseStatusTest, AResponseThatIsNotGrpcIsUnknown) {
  const auto s = statusOfHeaders(head(200, {{"content-type", "text/html"}}), false);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, kUnknown);
  EXPECT_NE(s->message.find("text/html"), std::string::npos);
}

TEST(GrpcResponseStatusTest, TrailersGiveTheStatusAndTheDecodedMessage) {
  http::HeaderMap t;
  t.add("grpc-status", "14");
  t.add("grpc-message", "CA is down%3A 100%25 %E2%9C%93");
  const Status s = statusOfTrailers(t);
  EXPECT_EQ(s.code, kUnavailable);
  EXPECT_EQ(s.message, "CA is down: 100% \xE2\x9C\x93");
}

TEST(GrpcResponseStatusTest, MissingOrMalformedGrpcStatusIsUnknown) {
  EXPECT_EQ(statusOfTrailers(http::HeaderMap()).code, kUnknown);
  EXPECT_EQ(statusOfTrailers(http::HeaderMap()).message, "the response carries no grpc-status");
  http::HeaderMap t;
  t.add("grpc-status", "seven");
  EXPECT_EQ(statusOfTrailers(t).code, kUnknown);
}

TEST(GrpcResponseStatusTest, PercentDecodingLeavesWhatIsNotAnEscape) {
  EXPECT_EQ(decodeMessage("100%"), "100%");
  EXPECT_EQ(decodeMessage("%zz%4"), "%zz%4");
  EXPECT_EQ(decodeMessage("%41%62c"), "Abc");
  EXPECT_EQ(decodeMessage(""), "");
}

TEST(GrpcRequestTest, HeadersOfACall) {
  RequestHead h;
  h.scheme = "https";
  h.authority = "ca.mesh:15012";
  h.path = "/sluice.ca.v1.CertificateService/CreateCertificate";
  h.metadata = {{"authorization", "Bearer t"}};
  h.timeout = std::chrono::seconds(10);
  const http::HeaderMap m = requestHeaders(h);
  EXPECT_EQ(m.method(), "POST");
  EXPECT_EQ(m.get(":scheme"), "https");
  EXPECT_EQ(m.path(), h.path);
  EXPECT_EQ(m.authority(), "ca.mesh:15012");
  EXPECT_EQ(m.get("content-type"), "application/grpc");
  EXPECT_EQ(m.get("te"), "trailers");
  EXPECT_EQ(m.get("grpc-timeout"), "10S");
  EXPECT_EQ(m.get("authorization"), "Bearer t");
  EXPECT_EQ(m.get("user-agent")->substr(0, 7), "sluice/");
  h.timeout = std::chrono::milliseconds(1500);
  EXPECT_EQ(requestHeaders(h).get("grpc-timeout"), "1500m");
  h.timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(requestHeaders(h).has("grpc-timeout"));
}

TEST(GrpcStatusTest, Names) {
  EXPECT_EQ(codeName(kDeadlineExceeded), "DEADLINE_EXCEEDED");
  EXPECT_EQ(codeName(17), "code 17");
  EXPECT_EQ((Status{kInternal, ""}).text(), "INTERNAL");
}

}  // namespace
}  // namespace sluice::grpc
