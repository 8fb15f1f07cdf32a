#pragma once
// When the certificate agent asks the CA again. Pure functions of the
// certificate's validity, the current time and a random source, so tests
// run them on any clock.
//
// Renewal: at half of the certificate's lifetime (notBefore to notAfter),
// moved by a uniform jitter of up to 10% of the lifetime either way, so
// proxies started together do not all call the CA in the same second. A
// certificate whose renewal time has passed is renewed at once.
//
// Failure: the call is tried again after a jittered exponential backoff,
// 1 s doubling to a 30 s ceiling, each delay drawn uniformly from
// [delay/2, delay] (never zero), while the current certificate serves on.

#include <chrono>
#include <cstdint>

#include "proxy/util/random.h"

namespace sluice::ca {

using WallTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

inline constexpr Millis kRetryBase{1000};
inline constexpr Millis kRetryCeiling{30000};

// From `now` until the renewal of a certificate valid from `not_before` to
// `not_after`: 0 when that time has passed.
Millis renewalDelay(WallTime not_before, WallTime not_after, WallTime now, util::RandomSource& random);

// The delay before try number `failures` + 1 after `failures` (>= 1)
// consecutive failed calls.
Millis retryDelay(uint32_t failures, util::RandomSource& random);

}  // namespace sluice::ca
