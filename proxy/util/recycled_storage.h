#pragma once
// Per-thread spare capacity for containers that live as long as one request
// (an HTTP/2 stream's header map, its body buffer's slice list): a dying
// container leaves its storage with the thread, and the next one of its kind
// to need room takes it, instead of a malloc and a free per request. Objects
// reused across requests (an HTTP/1 connection's maps) keep their own
// capacity and never come here.
//
//   RecycledStorage<Tag, std::vector<Slot>>::take(v);  // before the first push
//   RecycledStorage<Tag, std::vector<Slot>>::give(v);  // in the destructor
//
// `Tag` keeps unrelated users of one container type apart. Bounded: at most
// kKeep spares per thread (enough for a worker's streams at HTTP/2's usual
// concurrency, 64 connections of 10 streams, to end in one burst), each at most kMaxBytes (a container grown by an
// unusual message goes back to malloc). Sanitizer builds bypass the spares
// so that use-after-free stays detectable, as util/thread_pool_alloc.h does.

#include <cstddef>
#include <utility>
#include <vector>

#include "proxy/util/thread_own.h"

namespace sluice::util {

template <class Tag, class Container, size_t kKeep = 1024, size_t kMaxBytes = 4096>
class RecycledStorage {
 public:
  // Gives the empty `c` a spare's capacity; false when the thread has none
  // (or `c` is not empty).
  static bool take(Container& c) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SLUICE_TSAN_BUILD)
    List* l = threadOwn<List>();
    if (!l || l->spares.empty() || !c.empty()) return false;
    c.swap(l->spares.back());
    l->spares.pop_back();
    return true;
#else
    (void)c;
    return false;
#endif
  }

  // Keeps `c`'s storage for a later take() when it is worth keeping; `c` is
  // left empty either way.
  static void give(Container& c) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SLUICE_TSAN_BUILD)
    // (A string's inline capacity is no storage of its own.)
    const size_t bytes = c.capacity() * sizeof(typename Container::value_type);
    List* l = threadOwn<List>();
    if (l && c.capacity() > Container().capacity() && bytes <= kMaxBytes && l->spares.size() < kKeep) {
      c.clear();
      l->spares.push_back(std::move(c));
      return;
    }
#endif
    c.clear();
  }

  // Spares held by the calling thread (tests).
  static size_t spares() {
    const List* l = threadOwn<List>();
    return l ? l->spares.size() : 0;
  }

 private:
  struct List {
    List() { spares.reserve(kKeep); }
    std::vector<Container> spares;
  };
};

}  // namespace sluice::util
