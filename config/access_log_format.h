#pragma once
// An access log `format:` split into literal text and %TOKEN%s: checked when
// the config is read, and the proxy's formatter (proxy/http/access_log.h,
// which documents the tokens) is compiled from the same split, so both
// accept exactly the same strings.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {

// The token names, in the order of the formatter's token ids.
inline constexpr std::string_view kAccessLogTokens[] = {
    "START_TIME",
    "METHOD",
    "PATH",
    "AUTHORITY",
    "STATUS",
    "RESPONSE_FLAGS",
    "BYTES_RECEIVED",
    "BYTES_SENT",
    "DURATION",
    "UPSTREAM_HOST",
    "UPSTREAM_CLUSTER",
    "ROUTE_NAME",
    "REQUEST_ID",
    "TRACE_ID",
    "DOWNSTREAM_ADDRESS",
    "DETAILS",
    "DOWNSTREAM_PEER_URI_SAN",
    "DOWNSTREAM_TLS_VERSION",
    "REQUESTED_SERVER_NAME",
    "UPSTREAM_REQUEST_ATTEMPT_COUNT",
    "ORIGINAL_PATH",
    "GRPC_STATUS",
    "PROTOCOL",
};

struct AccessLogFormat {
  struct Piece {
    bool literal = true;
    std::string text;  // literal text ("%%" already unescaped), or the token name
    size_t token = 0;  // index into kAccessLogTokens when !literal
  };
  bool json = false;  // the format "json": one JSON object per line
  std::vector<Piece> pieces;
};

// nullopt with *error set for an empty format, an unknown %TOKEN% or an
// unterminated one. Trailing newlines are dropped (the writer adds one).
std::optional<AccessLogFormat> parseAccessLogFormat(const std::string& format, std::string* error);

}  // namespace sluice::config
