// Request metadata: forwarding headers, request id and W3C trace context.
#include "filters/network/http/request_metadata.h"

#include <gtest/gtest.h>

#include <regex>

namespace sluice::filters::http_cm {
namespace {

const net::Address kPeer = *net::Address::parse("10.1.2.3:5555");

TEST(RequestMetadataTest, SetsForwardingHeadersAndNewIds) {
  sluice::http::HeaderMap h;
  const auto ids = addRequestMetadata(h, kPeer.ip(), 0, true);
  EXPECT_EQ(h.get("x-forwarded-for"), "10.1.2.3");
  EXPECT_EQ(h.get("x-forwarded-proto"), "http");
  EXPECT_TRUE(std::regex_match(std::string(*h.get("x-request-id")),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_EQ(ids.request_id, *h.get("x-request-id"));
  const std::string tp(*h.get("traceparent"));
  EXPECT_TRUE(std::regex_match(tp, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-00"))) << tp;
  EXPECT_EQ(tp.substr(3, 32), ids.trace_id);
}

TEST(RequestMetadataTest, AppendsToXffAndKeepsRequestId) {
  sluice::http::HeaderMap h;
  h.add("x-forwarded-for", "192.0.2.1");
  h.add("x-forwarded-proto", "https");
  h.add("x-request-id", "abc");
  addRequestMetadata(h, kPeer.ip(), 0, true);
  EXPECT_EQ(h.get("x-forwarded-for"), "192.0.2.1, 10.1.2.3");
  EXPECT_EQ(h.get("x-forwarded-proto"), "http");  // untrusted peer: we know it is http
  EXPECT_EQ(h.get("x-request-id"), "abc");
  sluice::http::HeaderMap trusted;
  trusted.add("x-forwarded-proto", "https");
  addRequestMetadata(trusted, kPeer.ip(), 1, true);
  EXPECT_EQ(trusted.get("x-forwarded-proto"), "https");
}

TEST(RequestMetadataTest, ContinuesAValidTraceWithANewSpan) {
  const std::string in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  sluice::http::HeaderMap h;
  h.add("traceparent", in);
  const auto ids = addRequestMetadata(h, kPeer.ip(), 0, false);
  const std::string out(*h.get("traceparent"));
  EXPECT_EQ(ids.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(out.substr(0, 36), in.substr(0, 36));  // version + trace id
  EXPECT_NE(out.substr(36, 16), in.substr(36, 16));  // new span id
  EXPECT_EQ(out.substr(53), "01");                   // flags kept
  EXPECT_FALSE(h.has("x-request-id"));               // not generated when disabled
}

TEST(RequestMetadataTest, InvalidTraceparentStartsANewTrace) {
  for (const char* bad : {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "garbage"}) {
    std::string trace, flags;
    EXPECT_FALSE(parseTraceparent(bad, &trace, &flags)) << bad;
    sluice::http::HeaderMap h;
    h.add("traceparent", bad);
    h.add("tracestate", "vendor=1");
    const auto ids = addRequestMetadata(h, kPeer.ip(), 0, true);
    EXPECT_NE(std::string(*h.get("traceparent")), bad);
    EXPECT_EQ(ids.trace_id.size(), 32u);
    EXPECT_FALSE(h.has("tracestate"));
  }
}

}  // namespace
}  // namespace sluice::filters::http_cm
