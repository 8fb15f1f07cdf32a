#include "proxy/ratelimit/local_limiter.h"

#include "ip/address.h"
#include "proxy/util/hash.h"

namespace sluice::ratelimit {
namespace {

// The config side states the limits; the buckets' packing and table must hold them.
static_assert(config::TokenBucketSpec::kMaxTokens == TokenBucketParams::kMaxTokens);
static_assert(config::LocalLimitSpec::kMaxKeys == KeyedBuckets::kMaxKeys);
static_assert(config::LocalLimitSpec::kDefaultMaxKeys == KeyedBuckets::kDefaultMaxKeys);

TokenBucketParams params(const config::TokenBucketSpec& s) {
  return {s.max_tokens, s.tokens_per_fill, s.fill_interval};
}

}  // namespace

LocalLimiter::LocalLimiter(const config::LocalLimitSpec& spec, event::MonoTime start) {
  if (!spec.token_bucket) return;
  if (spec.key_source == config::LocalLimitSpec::KeySource::None) {
    bucket_ = std::make_unique<AtomicTokenBucket>(params(*spec.token_bucket), start);
  } else {
    keyed_ = std::make_unique<KeyedBuckets>(params(*spec.token_bucket), start, spec.max_keys);
  }
}

TakeResult LocalLimiter::take(uint64_t key_hash, event::MonoTime now, bool* table_full) const {
  if (keyed_) return keyed_->tryTake(key_hash, now, table_full);
  *table_full = false;
  return bucket_->tryTake(now);
}

uint64_t hashKey(std::string_view key) { return util::hash64(key); }

uint64_t hashIp(const ip::Address& address) {
  const sockaddr* sa = address.sockAddr();
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return util::hash64({reinterpret_cast<const char*>(&in->sin_addr), sizeof(in->sin_addr)});
  }
  if (address.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return util::hash64({reinterpret_cast<const char*>(&in6->sin6_addr), sizeof(in6->sin6_addr)});
  }
  return 0;
}

}  // namespace sluice::ratelimit
