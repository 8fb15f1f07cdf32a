#pragma once
// Retry-After (RFC 9110 section 10.2.3): either delay-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", plus the two obsolete date
// forms recipients must accept). Used by the router to wait as long as a
// 429/503 response asks before retrying.

#include <chrono>
#include <optional>
#include <string_view>

namespace sluice::http {

// The delay the header asks for, measured from `now` (a date in the past is
// zero); nullopt when the value is malformed.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace sluice::http
