#pragma once
// Request metadata a proxy adds before any filter runs: x-forwarded-for /
// x-forwarded-proto, x-request-id and W3C traceparent.

#include <string>

#include "proxy/http/header_map.h"
#include "proxy/net/address.h"
#include "proxy/util/inline_string.h"

namespace sluice::filters::http_cm {

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
RequestIds addRequestMetadata(sluice::http::HeaderMap& headers, std::string_view peer_ip, uint32_t trusted_hops,
                              bool generate_request_id);

// Exposed for tests.
std::string newUuid4();
// Writes a random (version 4) UUID as 36 characters.
void writeUuid4(char* out);
// True for a W3C traceparent this proxy continues (known layout, non-zero ids).
bool validTraceparent(std::string_view value);
bool parseTraceparent(std::string_view value, std::string* trace_id, std::string* flags);

}  // namespace sluice::filters::http_cm
