#pragma once
// KeyedBuckets: one token bucket per key (a client IP, a header value, a
// path) in a bounded, lock-free table shared by all workers.
//
// A fixed array of slots {key hash, bucket state}, its size max_keys rounded
// up to a power of two; a key probes a few slots from its hash (open
// addressing). Slots are never emptied, only taken over:
// - a key finds its slot, or claims an empty one by CAS on the key word;
// - with every probed slot held by other keys, it may take over one whose
//   bucket is full as of now: a full bucket is indistinguishable from a fresh
//   one, so the evicted key loses nothing (it gets a fresh bucket when it
//   returns);
// - with no slot to be had, the take goes to one shared overflow bucket and
//   the caller is told (`table_full`), to count it.
//
// Exact per key while a key keeps its slot. At the moment a slot is taken
// over, a take by the evicted key that already found the slot may be charged
// to the new key (one token, once); two threads inserting the same new key at
// once may rarely give it two slots until one of them fills and is reused.
//
// Any thread; no allocation after construction; no lock.

#include <atomic>
#include <cstdint>
#include <memory>

#include "proxy/ratelimit/token_bucket.h"

namespace sluice::ratelimit {

class KeyedBuckets {
 public:
  static constexpr uint32_t kDefaultMaxKeys = 10000;
  static constexpr uint32_t kMaxKeys = 1u << 20;
  static constexpr int kProbeLimit = 8;

  // Every key's bucket (and the overflow bucket) has `params`; epochs count from `start`.
  KeyedBuckets(const TokenBucketParams& params, event::MonoTime start, uint32_t max_keys = kDefaultMaxKeys);

  // Takes one token from the bucket of the key whose hash is `key_hash`
  // (e.g. util::hash64 of the key). *table_full is set when the key got no
  // slot and the overflow bucket answered.
  TakeResult tryTake(uint64_t key_hash, event::MonoTime now, bool* table_full);

  size_t capacity() const { return mask_ + 1; }
  const TokenBucketParams& params() const { return shape_.params(); }

 private:
  struct Slot {
    std::atomic<uint64_t> key{0};  // 0 = empty
    std::atomic<uint64_t> state{0};
  };
  Slot* find(uint64_t key, event::MonoTime now);

  TokenBucketShape shape_;
  size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  AtomicTokenBucket overflow_;
};

}  // namespace sluice::ratelimit
