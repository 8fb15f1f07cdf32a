#pragma once
// What the proxy needs to know about gRPC (over HTTP/2): which requests are
// gRPC, their deadline (grpc-timeout), their outcome (grpc-status, in the
// headers of a trailers-only response or in the trailers), and how a reply
// Sluice makes itself is said to a gRPC client: HTTP 200 with grpc-status
// and grpc-message, no body, as gRPC's own HTTP-to-gRPC status mapping has it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/grpc/status.h"
#include "proxy/http/header_map.h"

namespace sluice::http::grpc {

// gRPC status codes: the one table, sluice::grpc::Code (proxy/grpc/status.h),
// which the proxy's own gRPC clients report with.
using enum sluice::grpc::Code;

// content-type application/grpc, application/grpc+proto, application/grpc;...
bool isGrpc(const HeaderMap& request);
// 400 -> INTERNAL, 401 -> UNAUTHENTICATED, 403 -> PERMISSION_DENIED,
// 404 -> UNIMPLEMENTED, 429/502/503/504 -> UNAVAILABLE, else UNKNOWN.
int statusForHttp(int http_status);
// "250m", "1S", "5M" (RFC-less, per gRPC's PROTOCOL-HTTP2): at most 8
// digits and a unit of H M S m u n. nullopt when malformed.
std::optional<std::chrono::milliseconds> parseTimeout(std::string_view value);
// grpc-status of a response's headers or trailers, when there and valid.
std::optional<int> statusOf(const HeaderMap& headers);
// grpc-message's percent-encoding: bytes outside printable ASCII, and '%'.
std::string encodeMessage(std::string_view text);

}  // namespace sluice::http::grpc
