#pragma once
// Why an upstream stream ended before its response completed, or never
// started. Pools and connections raise it; the router maps it to a response
// flag and status, and the retry policy to an AttemptFailure. Nothing
// downstream of the pool parses a detail string to learn the cause.

#include <cstdint>
#include <string_view>

#include "proxy/http/stream_reset.h"

namespace sluice::upstream {

// The one enum of proxy/http/stream_reset.h: an upstream stream and a
// downstream one end for the same kinds of reasons.
using StreamResetReason = http::StreamResetReason;

// The short name used as a local reply's details and in the access log
// ("upstream_connect_failure", "upstream_pool_overflow", ...).
std::string_view resetReasonName(StreamResetReason reason);

}  // namespace sluice::upstream
