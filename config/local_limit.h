#pragma once
// The local rate-limit settings shared by the HTTP and L4 local_ratelimit
// filters, as plain data: `token_bucket:` and `per_key:` in a filter's mapping.
//
//   token_bucket: {max_tokens: 10, tokens_per_fill: 10, fill_interval: 1s}
//   per_key: {source: client_ip | path | header, header: x-user, max_keys: 10000}
//
// Without per_key there is one bucket; with it, one bucket per key (each of
// the token_bucket shape). Without token_bucket nothing is limited. The
// buckets themselves are runtime state (proxy/ratelimit/local_limiter.h),
// made from this spec when a snapshot is built.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/model.h"

namespace sluice::config {

class MapReader;

struct TokenBucketSpec {
  // A bucket packs its tokens into 24 bits (proxy/ratelimit/token_bucket.h).
  static constexpr uint32_t kMaxTokens = (1u << 24) - 1;
  uint32_t max_tokens = 1;       // 1..kMaxTokens; a bucket starts full
  uint32_t tokens_per_fill = 1;  // 1..kMaxTokens; added per elapsed interval
  Duration fill_interval{1000};  // >= 1ms
};

struct LocalLimitSpec {
  enum class KeySource { None, ClientIp, Path, Header };
  static constexpr uint32_t kDefaultMaxKeys = 10000;
  static constexpr uint32_t kMaxKeys = 1u << 20;

  std::optional<TokenBucketSpec> token_bucket;
  KeySource key_source = KeySource::None;
  std::string key_header;  // KeySource::Header: the header's name, lower case
  uint32_t max_keys = kDefaultMaxKeys;
};

// Reads `token_bucket` and `per_key` from a filter's mapping `r` (errors name
// their path). `request_keys`: path and header sources are allowed (HTTP);
// otherwise only client_ip.
void readLocalLimitSpec(MapReader& r, LocalLimitSpec& spec, bool request_keys);
// Adds `token_bucket` / `per_key` to a filter's canonical JSON.
void addLocalLimitJson(const LocalLimitSpec& spec, nlohmann::json& out);

}  // namespace sluice::config
