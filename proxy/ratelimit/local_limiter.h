#pragma once
// LocalLimiter: the runtime core shared by the HTTP and L4 local rate-limit
// filters: the bucket(s) made from a config::LocalLimitSpec (its YAML and
// meaning: config/local_limit.h).
//
// Without per_key there is one bucket; with it, one bucket per key (each of
// the token_bucket shape) in a KeyedBuckets table. Without token_bucket the
// limiter is disabled (enabled() is false).
//
// A LocalLimiter lives inside an immutable runtime filter config: it is made
// on the main thread when a snapshot is built, and its buckets are atomics
// that any worker may take from through a const reference.

#include <cstdint>
#include <memory>
#include <string_view>

#include "config/local_limit.h"
#include "proxy/ratelimit/keyed_buckets.h"
#include "proxy/ratelimit/token_bucket.h"

namespace sluice::ip {
class Address;
}

namespace sluice::ratelimit {

// Counted by both filters when a key found no slot (labels: stat_prefix).
inline constexpr const char* kKeyTableFullMetric = "sluice_local_ratelimit_key_table_full_total";
inline constexpr const char* kKeyTableFullHelp =
    "Requests or connections whose rate-limit key found no slot in the key table (the overflow bucket answered)";

class LocalLimiter {
 public:
  // Epochs count from `start` (the time the snapshot is built).
  LocalLimiter(const config::LocalLimitSpec& spec, event::MonoTime start);

  bool enabled() const { return bucket_ || keyed_; }
  bool keyed() const { return keyed_ != nullptr; }

  // Takes one token: from the key's bucket when keyed (key_hash from
  // hashKey()/hashIp()), else from the single bucket (key_hash ignored).
  // *table_full: the key table had no slot; the overflow bucket answered.
  // Requires enabled().
  TakeResult take(uint64_t key_hash, event::MonoTime now, bool* table_full) const;

 private:
  std::unique_ptr<AtomicTokenBucket> bucket_;
  std::unique_ptr<KeyedBuckets> keyed_;
};

// Key hashes; no allocation.
uint64_t hashKey(std::string_view key);
// Of the address's IP bytes (the port is not part of it).
uint64_t hashIp(const ip::Address& address);

}  // namespace sluice::ratelimit
