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

#include "proxy/http/header_map.h"

namespace sluice::http::grpc {

// gRPC status codes (the ones the proxy names).
enum Status : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kDeadlineExceeded = 4,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kUnauthenticated = 16,
};

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
