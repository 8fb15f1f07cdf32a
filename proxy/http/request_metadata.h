#pragma once
// Request metadata a proxy adds before any filter runs: x-forwarded-for /
// x-forwarded-proto, x-request-id, W3C traceparent, and
// x-forwarded-client-cert.

#include <optional>
#include <string>

#include "config/forward_client_cert.h"
#include "proxy/http/header_map.h"
#include "ip/address.h"
#include "proxy/net/transport_socket.h"
#include "proxy/util/inline_string.h"

namespace sluice::http {

struct RequestIds {
  util::InlineString<64> request_id;
  util::InlineString<32> trace_id;
};

// - x-forwarded-for: the peer address is appended. With trusted_hops = 0 the
//   peer is the client and x-forwarded-proto is set to "http"; with N > 0 an
//   incoming x-forwarded-proto is kept.
// - x-request-id: kept if present, else a random UUIDv4 when `generate`.
// - traceparent: a valid one keeps its trace id and flags and gets a new
//   span id (we are the parent of the upstream span); otherwise a new trace.
RequestIds addRequestMetadata(HeaderMap& headers, std::string_view peer_ip, uint32_t trusted_hops,
                              bool generate_request_id);

// x-forwarded-client-cert (XFCC): what the upstream learns about the
// downstream's client certificate (`forward_client_cert_details` of `http:`).
// "Ours" is one element `By=<own_uri>;URI=<peer URI>`, added only when the
// downstream presented a certificate that verified: URI is its SPIFFE ID,
// else each of its URI SANs; By is left out while `own_uri` is empty. The
// modes are config/forward_client_cert.h's.
using config::ForwardClientCert;
using config::forwardClientCertName;
using config::parseForwardClientCert;

// Applies `mode` to the request's XFCC. Only forward_only and
// append_forward keep what the client sent: choose them only when the
// downstream is a trusted proxy, since anyone else can write the header.
// `tls` is the downstream connection's (null for plaintext). Sanitize is a
// remove() and nothing else.
void applyForwardClientCert(HeaderMap& headers, ForwardClientCert mode, const net::TlsInfo* tls,
                            std::string_view own_uri = {});

// Appends our XFCC element for `tls` to `out`, values quoted and escaped
// when they hold , ; = or " (Envoy's rules). Returns false, appending
// nothing, when there is no verified certificate or nothing to say.
bool appendClientCertElement(std::string& out, const net::TlsInfo* tls, std::string_view own_uri);

// Exposed for tests.
std::string newUuid4();
// Writes a random (version 4) UUID as 36 characters.
void writeUuid4(char* out);
// True for a W3C traceparent this proxy continues (known layout, non-zero ids).
bool validTraceparent(std::string_view value);
bool parseTraceparent(std::string_view value, std::string* trace_id, std::string* flags);

}  // namespace sluice::http
