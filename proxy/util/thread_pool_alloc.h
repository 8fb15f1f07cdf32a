#pragma once
// Per-thread free lists for objects made and destroyed once per request
// (a stream and its filter-chain state): a freed block is kept for the next
// object of the same class on that thread instead of going back to malloc.
// Use through class-specific operator new/delete:
//
//   static void* operator new(size_t n) { return util::ThreadPoolAlloc<T>::allocate(n); }
//   static void operator delete(void* p, size_t n) { util::ThreadPoolAlloc<T>::release(p, n); }
//
// A block freed on another thread simply joins that thread's list. Sanitizer
// builds bypass the lists so use-after-free stays detectable.

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "proxy/util/thread_own.h"

namespace sluice::util {

template <class T, size_t kKeep = 1024>
class ThreadPoolAlloc {
 public:
  static void* allocate(size_t n) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SLUICE_TSAN_BUILD)
    List* l = threadOwn<List>();
    if (n == sizeof(T) && l && !l->blocks.empty()) {
      void* p = l->blocks.back();
      l->blocks.pop_back();
      return p;
    }
#endif
    return ::operator new(n);
  }

  static void release(void* p, size_t n) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SLUICE_TSAN_BUILD)
    List* l = threadOwn<List>();
    if (n == sizeof(T) && l && l->blocks.size() < kKeep) {
      l->blocks.push_back(p);
      return;
    }
#endif
    ::operator delete(p);
  }

 private:
  struct List {
    List() { blocks.reserve(kKeep); }
    ~List() {
      for (void* p : blocks) ::operator delete(p);
    }
    std::vector<void*> blocks;
  };
};

// A standard allocator over the free lists, for allocate_shared: the object
// and its shared_ptr control block are one block, recycled on the thread.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(ThreadPoolAlloc<T>::allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { ThreadPoolAlloc<T>::release(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

// make_shared for objects made once per request (HTTP filters): no malloc
// once the worker has freed one of the same type.
template <class T, class... Args>
std::shared_ptr<T> makePooledShared(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace sluice::util
