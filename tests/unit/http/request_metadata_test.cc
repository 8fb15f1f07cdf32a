// Request metadata: forwarding headers, request id, W3C trace context and
// x-forwarded-client-cert in each forward_client_cert_details mode.
#include "proxy/http/request_metadata.h"

#include <gtest/gtest.h>

#include <regex>

#include "proxy/net/transport_socket.h"

namespace sluice::http {
namespace {

const ip::Address kPeer = *ip::Address::parse("10.1.2.3:5555");

TEST(RequestMetadataTest, SetsForwardingHeadersAndNewIds) {
  HeaderMap h;
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
  HeaderMap h;
  h.add("x-forwarded-for", "192.0.2.1");
  h.add("x-forwarded-proto", "https");
  h.add("x-request-id", "abc");
  addRequestMetadata(h, kPeer.ip(), 0, true);
  EXPECT_EQ(h.get("x-forwarded-for"), "192.0.2.1, 10.1.2.3");
  EXPECT_EQ(h.get("x-forwarded-proto"), "http");  // untrusted peer: we know it is http
  EXPECT_EQ(h.get("x-request-id"), "abc");
  HeaderMap trusted;
  trusted.add("x-forwarded-proto", "https");
  addRequestMetadata(trusted, kPeer.ip(), 1, true);
  EXPECT_EQ(trusted.get("x-forwarded-proto"), "https");
}

TEST(RequestMetadataTest, ContinuesAValidTraceWithANewSpan) {
  const std::string in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  HeaderMap h;
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
    HeaderMap h;
    h.add("traceparent", bad);
    h.add("tracestate", "vendor=1");
    const auto ids = addRequestMetadata(h, kPeer.ip(), 0, true);
    EXPECT_NE(std::string(*h.get("traceparent")), bad);
    EXPECT_EQ(ids.trace_id.size(), 32u);
    EXPECT_FALSE(h.has("tracestate"));
  }
}

constexpr std::string_view kXfcc = "x-forwarded-client-cert";
constexpr const char* kSpoofed = "URI=spiffe://td/ns/admin/sa/root";
constexpr const char* kClientId = "spiffe://sluice.test/ns/default/sa/client";

net::TlsInfo verified(const std::string& spiffe_id) {
  net::TlsInfo t;
  t.peer_certificate_presented = true;
  t.peer_certificate_verified = true;
  t.peer_spiffe_id = spiffe_id;
  if (!spiffe_id.empty()) t.peer_uri_sans = {spiffe_id};
  return t;
}

// The request's XFCC after applying `mode`; nullopt when absent.
std::optional<std::string> xfcc(ForwardClientCert mode, const net::TlsInfo* tls, const char* incoming,
                                std::string_view own = {}) {
  HeaderMap h;
  if (incoming != nullptr) h.add("X-Forwarded-Client-Cert", incoming);
  applyForwardClientCert(h, mode, tls, own);
  auto v = h.get(kXfcc);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

TEST(ForwardClientCertTest, ModesNamesRoundTrip) {
  for (auto m : {ForwardClientCert::Sanitize, ForwardClientCert::ForwardOnly, ForwardClientCert::AppendForward,
                 ForwardClientCert::SanitizeSet})
    EXPECT_EQ(parseForwardClientCert(forwardClientCertName(m)), m);
  EXPECT_FALSE(parseForwardClientCert("always_forward_only"));
  EXPECT_FALSE(parseForwardClientCert("SANITIZE"));
}

TEST(ForwardClientCertTest, SanitizeStripsEveryClientCopyAndAddsNothing) {
  const net::TlsInfo tls = verified(kClientId);
  EXPECT_FALSE(xfcc(ForwardClientCert::Sanitize, nullptr, kSpoofed));
  EXPECT_FALSE(xfcc(ForwardClientCert::Sanitize, &tls, kSpoofed));
  HeaderMap two;
  two.add("x-forwarded-client-cert", "a");
  two.add("x-forwarded-client-cert", "b");
  applyForwardClientCert(two, ForwardClientCert::Sanitize, nullptr);
  EXPECT_FALSE(two.has(kXfcc));
}

TEST(ForwardClientCertTest, ForwardOnlyPassesTheClientsUnchanged) {
  const net::TlsInfo tls = verified(kClientId);
  EXPECT_EQ(xfcc(ForwardClientCert::ForwardOnly, &tls, kSpoofed), kSpoofed);
  EXPECT_EQ(xfcc(ForwardClientCert::ForwardOnly, nullptr, kSpoofed), kSpoofed);
  EXPECT_FALSE(xfcc(ForwardClientCert::ForwardOnly, &tls, nullptr));
}

TEST(ForwardClientCertTest, SanitizeSetReplacesWithOursOnlyForAVerifiedPeer) {
  const net::TlsInfo tls = verified(kClientId);
  EXPECT_EQ(xfcc(ForwardClientCert::SanitizeSet, &tls, kSpoofed), std::string("URI=") + kClientId);
  EXPECT_EQ(xfcc(ForwardClientCert::SanitizeSet, &tls, nullptr, "spiffe://sluice.test/ns/mesh/sa/proxy"),
            std::string("By=spiffe://sluice.test/ns/mesh/sa/proxy;URI=") + kClientId);
  EXPECT_FALSE(xfcc(ForwardClientCert::SanitizeSet, nullptr, kSpoofed)) << "plaintext: stripped, nothing set";
  net::TlsInfo unverified = verified(kClientId);
  unverified.peer_certificate_verified = false;
  EXPECT_FALSE(xfcc(ForwardClientCert::SanitizeSet, &unverified, kSpoofed));
  net::TlsInfo no_cert;
  EXPECT_FALSE(xfcc(ForwardClientCert::SanitizeSet, &no_cert, nullptr));
}

TEST(ForwardClientCertTest, AppendForwardKeepsTheClientsAndAppendsOurs) {
  const net::TlsInfo tls = verified(kClientId);
  EXPECT_EQ(xfcc(ForwardClientCert::AppendForward, &tls, "By=x;URI=y"), std::string("By=x;URI=y,URI=") + kClientId);
  EXPECT_EQ(xfcc(ForwardClientCert::AppendForward, &tls, nullptr), std::string("URI=") + kClientId);
  EXPECT_EQ(xfcc(ForwardClientCert::AppendForward, nullptr, "By=x;URI=y"), "By=x;URI=y");
  HeaderMap two;
  two.add("x-forwarded-client-cert", "URI=a");
  two.add("x-forwarded-client-cert", "URI=b");
  applyForwardClientCert(two, ForwardClientCert::AppendForward, &tls);
  EXPECT_EQ(two.get(kXfcc), std::string("URI=a,URI=b,URI=") + kClientId);
}

TEST(ForwardClientCertTest, ElementQuotesAndEscapesAndSkipsUnsafeValues) {
  net::TlsInfo tls = verified("");
  tls.peer_uri_sans = {"urn:a=b", "https://x/p;q,r", "say \"hi\"", "bad\r\nx-injected: 1", ""};
  std::string out;
  ASSERT_TRUE(appendClientCertElement(out, &tls, {}));
  EXPECT_EQ(out, "URI=\"urn:a=b\";URI=\"https://x/p;q,r\";URI=\"say \\\"hi\\\"\"");
  EXPECT_EQ(out.find('\r'), std::string::npos);

  std::string by_only;
  net::TlsInfo nothing = verified("");  // verified, but no URI SAN to report
  EXPECT_FALSE(appendClientCertElement(by_only, &nothing, "spiffe://td/me"));
  EXPECT_EQ(by_only, "");
  std::string kept = "URI=prior";
  EXPECT_FALSE(appendClientCertElement(kept, &nothing, {}));
  EXPECT_EQ(kept, "URI=prior") << "a failed append leaves no stray separator";
}

}  // namespace
}  // namespace sluice::http
