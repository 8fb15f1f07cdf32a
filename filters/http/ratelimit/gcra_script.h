#pragma once
// The rate-limit decision, run atomically inside Redis: GCRA (the generic
// cell rate algorithm, i.e. a token bucket stored as one timestamp).
//
// Per key Redis holds TAT, the "theoretical arrival time": the moment the
// bucket would be full again if no further request came. With
//   T   = emission interval = unit / requests_per_unit   (microseconds)
//   tau = burst tolerance   = burst * T
// a request arriving at `now` costs T. Starting from tat = max(TAT, now), the
// request conforms iff  tat + T - now <= T + tau,  i.e. the bucket, which
// drains at one request per T, still has room; then TAT := tat + T. An idle
// key (TAT <= now) accepts burst + 1 requests back to back, then one per T.
//
// Why GCRA and not a sliding-window counter: one key and O(1) memory per
// descriptor, a single GET/SET, an exact long-run rate, and no doubled burst
// at window edges. The clock is Redis's own TIME, so every Sluice process
// sharing the key agrees on "now" whatever their clocks say.
//
// The key expires once TAT has passed (a missing key and a key with
// TAT <= now mean the same: a full bucket), so idle descriptors vanish.
// A denied request writes nothing.
//
// KEYS[1] = descriptor key; ARGV[1] = T, ARGV[2] = tau (microseconds, may be
// fractional). Returns {allowed (1|0), remaining, retry_after_ms, reset_ms}:
// remaining = requests that would still pass right now, retry_after_ms = wait
// before this request would conform (0 when allowed), reset_ms = time until
// the bucket is full again.

#include <string_view>

namespace sluice::filters::global_ratelimit {

inline constexpr std::string_view kGcraScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local limit = interval + tolerance
if new_tat - now <= limit then
  local ttl = math.ceil((new_tat - now) / 1000)
  redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', ttl + 1)
  local remaining = math.floor((limit - (new_tat - now)) / interval + 1e-6)
  return {1, remaining, 0, ttl}
end
local retry = math.ceil((new_tat - now - limit) / 1000)
return {0, 0, retry, math.ceil((tat - now) / 1000)}
)lua";

}  // namespace sluice::filters::global_ratelimit
