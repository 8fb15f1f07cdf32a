#pragma once
// What a gRPC response's header blocks say about the call (PROTOCOL-HTTP2
// and gRPC's HTTP-to-gRPC status mapping): whether its headers let the call
// go on, and the status its trailers (or a trailers-only response) end it
// with.

#include <optional>
#include <string>
#include <string_view>

#include "proxy/grpc/status.h"
#include "proxy/http/header_map.h"

namespace sluice::grpc {

// The response's first header block. nullopt: a normal start (HTTP 200,
// content-type application/grpc, more to come); messages and trailers
// follow. Otherwise the call ends here with the status returned:
// - HTTP status other than 200: mapped (503 -> UNAVAILABLE, 404 ->
//   UNIMPLEMENTED, ..., anything else UNKNOWN), "HTTP status 503";
// - `end_stream` (trailers-only): as trailers (below);
// - a content-type that is not gRPC: UNKNOWN.
std::optional<Status> statusOfHeaders(const http::HeaderMap& headers, bool end_stream);

// The trailers (or a trailers-only response's headers): grpc-status, and
// grpc-message percent-decoded. No valid grpc-status: UNKNOWN.
Status statusOfTrailers(const http::HeaderMap& trailers);

// grpc-message's percent-encoding undone ("%20" -> ' '); a '%' not followed
// by two hex digits stays as it is, as gRPC's own decoders leave it.
std::string decodeMessage(std::string_view encoded);

}  // namespace sluice::grpc
