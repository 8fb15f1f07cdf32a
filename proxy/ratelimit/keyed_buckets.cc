#include "proxy/ratelimit/keyed_buckets.h"

#include <algorithm>
#include <bit>

#include "proxy/util/hash.h"

namespace sluice::ratelimit {

KeyedBuckets::KeyedBuckets(const TokenBucketParams& params, event::MonoTime start, uint32_t max_keys)
    : shape_(params, start),
      mask_(std::bit_ceil(std::clamp<uint32_t>(max_keys, 1, kMaxKeys)) - 1),
      slots_(new Slot[mask_ + 1]),
      overflow_(params, start) {
  // Every slot starts as a full bucket, so claiming an empty slot needs no
  // second write (which could race with the first take).
  const uint64_t full = shape_.fullState();
  for (size_t i = 0; i <= mask_; ++i) slots_[i].state.store(full, std::memory_order_relaxed);
}

KeyedBuckets::Slot* KeyedBuckets::find(uint64_t key, event::MonoTime now) {
  // The slot index uses the low bits; mix first so keys that differ only in
  // high bits (raw address bytes) still spread.
  const uint64_t start = util::mix64(key);
  Slot* evictable = nullptr;
  uint64_t evictable_key = 0;
  for (int i = 0; i < kProbeLimit; ++i) {
    Slot& s = slots_[(start + static_cast<uint64_t>(i)) & mask_];
    uint64_t k = s.key.load(std::memory_order_acquire);
    if (k == key) return &s;
    if (k == 0) {
      // Slots never become empty again, so the key is not further along
      // this probe sequence: claim this one.
      if (s.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) return &s;
      if (k == key) return &s;  // another thread inserted the same key here
      continue;
    }
    if (evictable == nullptr && shape_.isFull(s.state, now)) {
      evictable = &s;
      evictable_key = k;
    }
  }
  // Taken over only after the whole probe sequence showed the key is absent,
  // so a key never gets a second slot ahead of its first.
  if (evictable != nullptr) {
    uint64_t k = evictable_key;
    if (evictable->key.compare_exchange_strong(k, key, std::memory_order_acq_rel) || k == key) return evictable;
  }
  return nullptr;
}

TakeResult KeyedBuckets::tryTake(uint64_t key_hash, event::MonoTime now, bool* table_full) {
  if (key_hash == 0) key_hash = 1;  // 0 marks an empty slot
  if (Slot* s = find(key_hash, now)) {
    *table_full = false;
    return shape_.take(s->state, now);
  }
  *table_full = true;
  return overflow_.tryTake(now);
}

}  // namespace sluice::ratelimit
