#pragma once
// LocalLimiter: the core shared by the HTTP and L4 local rate-limit filters:
// its YAML (`token_bucket:` and `per_key:`) and the bucket(s) it builds.
//
//   token_bucket: {max_tokens: 10, tokens_per_fill: 10, fill_interval: 1s}
//   per_key: {source: client_ip | path | header, header: x-user, max_keys: 10000}
//
// Without per_key there is one bucket; with it, one bucket per key (each of
// the token_bucket shape) in a KeyedBuckets table. Without token_bucket the
// limiter is disabled (enabled() is false).
//
// A LocalLimiter lives inside an immutable filter config: it is built on the
// main thread when the config is parsed, and its buckets are atomics that any
// worker may take from through a const reference.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "proxy/ratelimit/keyed_buckets.h"
#include "proxy/ratelimit/token_bucket.h"

namespace sluice::config {
class MapReader;
}
namespace sluice::ip {
class Address;
}

namespace sluice::ratelimit {

enum class KeySource { None, ClientIp, Path, Header };

// Counted by both filters when a key found no slot (labels: stat_prefix).
inline constexpr const char* kKeyTableFullMetric = "sluice_local_ratelimit_key_table_full_total";
inline constexpr const char* kKeyTableFullHelp =
    "Requests or connections whose rate-limit key found no slot in the key table (the overflow bucket answered)";

struct LocalLimitSpec {
  std::optional<TokenBucketParams> token_bucket;
  KeySource key_source = KeySource::None;
  std::string key_header;  // KeySource::Header: the header's name, lower case
  uint32_t max_keys = KeyedBuckets::kDefaultMaxKeys;
};

// Reads `token_bucket` and `per_key` from a filter's mapping `r` (errors name
// their path). `request_keys`: path and header sources are allowed (HTTP);
// otherwise only client_ip.
void readLocalLimitSpec(config::MapReader& r, LocalLimitSpec& spec, bool request_keys);
// Adds `token_bucket` / `per_key` to a filter's canonical JSON.
void addLocalLimitJson(const LocalLimitSpec& spec, nlohmann::json& out);

class LocalLimiter {
 public:
  LocalLimiter() = default;  // disabled
  // Epochs count from `start` (the time the config is built).
  LocalLimiter(const LocalLimitSpec& spec, event::MonoTime start);

  bool enabled() const { return bucket_ || keyed_; }
  bool keyed() const { return keyed_ != nullptr; }
  const LocalLimitSpec& spec() const { return spec_; }

  // Takes one token: from the key's bucket when keyed (key_hash from
  // hashKey()/hashIp()), else from the single bucket (key_hash ignored).
  // *table_full: the key table had no slot; the overflow bucket answered.
  // Requires enabled().
  TakeResult take(uint64_t key_hash, event::MonoTime now, bool* table_full) const;

 private:
  LocalLimitSpec spec_;
  std::unique_ptr<AtomicTokenBucket> bucket_;
  std::unique_ptr<KeyedBuckets> keyed_;
};

// Key hashes; no allocation.
uint64_t hashKey(std::string_view key);
// Of the address's IP bytes (the port is not part of it).
uint64_t hashIp(const ip::Address& address);

}  // namespace sluice::ratelimit
