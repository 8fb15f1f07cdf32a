#include "proxy/overload/heap_usage.h"

#include <malloc.h>

#include "proxy/net/buffer.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLUICE_SANITIZER_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(SLUICE_TSAN_BUILD)
#define SLUICE_SANITIZER_ALLOCATOR 1
#endif

#ifdef SLUICE_SANITIZER_ALLOCATOR
#include <cstddef>
// Exported by the ASan and TSan runtimes alike; GCC ships no header for it.
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace sluice::overload {
namespace {

uint64_t allocatedBytes() {
#ifdef SLUICE_SANITIZER_ALLOCATOR
  // ASan and TSan replace malloc: glibc's arenas would show almost nothing.
  return __sanitizer_get_current_allocated_bytes();
#else
  // mallinfo2 sums every arena: small chunks in use plus mmapped large ones.
  const struct mallinfo2 mi = ::mallinfo2();
  return static_cast<uint64_t>(mi.uordblks) + static_cast<uint64_t>(mi.hblkhd);
#endif
}

}  // namespace

uint64_t heapBytesInUse() {
  const uint64_t allocated = allocatedBytes();
  const uint64_t pooled = net::pooledSliceBytes();
  return allocated > pooled ? allocated - pooled : 0;
}

}  // namespace sluice::overload
