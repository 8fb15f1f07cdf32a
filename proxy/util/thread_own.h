#pragma once
// A thread's own T, made on first use: the per-worker free lists and spares
// (util/thread_pool_alloc.h, util/recycled_storage.h, http/http2_memory.h)
// live in one. Null once the thread's exit has destroyed it, so that an
// object freed later in that exit (a static, a thread_local made before the
// lists) gives its memory straight back instead of touching a dead list.

namespace sluice::util {

template <class T>
T* threadOwn() {
  // The hot path reads one plain pointer: no guard of a thread_local with a
  // destructor on every call.
  thread_local T* own = nullptr;
  thread_local bool ended = false;
  if (own) return own;
  if (ended) return nullptr;
  struct Holder {
    // Runs before `value` is destroyed: what its destructor frees sees null too.
    ~Holder() {
      own = nullptr;
      ended = true;
    }
    T value;
  };
  thread_local Holder holder;
  own = &holder.value;
  return own;
}

}  // namespace sluice::util
