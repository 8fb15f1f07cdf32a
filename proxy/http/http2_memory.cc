#include "proxy/http/http2_memory.h"

#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "proxy/util/thread_own.h"

namespace sluice::http {
namespace {

// Blocks of 32 bytes to 4 KiB, header included; larger ones are plain
// malloc. The header keeps the block's class, and 16-byte alignment.
constexpr size_t kHeader = 16;
constexpr size_t kSmallest = 32;
constexpr unsigned kClasses = 8;
constexpr unsigned kLarge = kClasses;

size_t classSize(unsigned c) { return kSmallest << c; }

unsigned& classOf(void* block) { return *static_cast<unsigned*>(block); }

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadLists {
  ~ThreadLists() {
    for (FreeBlock* head : free) {
      while (head) {
        FreeBlock* next = head->next;
        std::free(head);
        head = next;
      }
    }
  }
  std::array<FreeBlock*, kClasses> free{};
  size_t cached_bytes = 0;
};

ThreadLists* lists() { return util::threadOwn<ThreadLists>(); }

}  // namespace

size_t Http2Memory::cachedBytes() {
  const ThreadLists* l = lists();
  return l ? l->cached_bytes : 0;
}

nghttp2_mem Http2Memory::table() {
  nghttp2_mem mem{};
  mem.malloc = [](size_t size, void*) { return allocate(size); };
  mem.free = [](void* p, void*) { release(p); };
  mem.calloc = [](size_t n, size_t size, void*) -> void* {
    if (size != 0 && n > SIZE_MAX / size) return nullptr;
    void* p = allocate(n * size);
    if (p) std::memset(p, 0, n * size);
    return p;
  };
  mem.realloc = [](void* p, size_t size, void*) { return reallocate(p, size); };
  return mem;
}

void* Http2Memory::allocate(size_t size) {
  if (size > SIZE_MAX - kHeader) return nullptr;
  const size_t total = size + kHeader;
  unsigned c =
      total <= kSmallest ? 0 : static_cast<unsigned>(std::bit_width(total - 1) - std::bit_width(kSmallest - 1));
  void* block = nullptr;
  ThreadLists* l = lists();
  if (c >= kClasses) {
    c = kLarge;
    block = std::malloc(total);
  } else if (l && l->free[c]) {
    block = l->free[c];
    l->free[c] = l->free[c]->next;
    l->cached_bytes -= classSize(c);
    // The next block out may have been freed long ago: load its link now,
    // not when that allocation waits on it.
    if (l->free[c]) __builtin_prefetch(l->free[c]);
  } else {
    block = std::malloc(classSize(c));
  }
  if (!block) return nullptr;
  classOf(block) = c;
  return static_cast<char*>(block) + kHeader;
}

void Http2Memory::release(void* p) {
  if (!p) return;
  void* block = static_cast<char*>(p) - kHeader;
  const unsigned c = classOf(block);
  ThreadLists* l = lists();
  if (c == kLarge || !l || l->cached_bytes + classSize(c) > kCacheBytes) {
    std::free(block);
    return;
  }
  auto* f = static_cast<FreeBlock*>(block);
  f->next = l->free[c];
  l->free[c] = f;
  l->cached_bytes += classSize(c);
}

void* Http2Memory::reallocate(void* p, size_t size) {
  if (!p) return allocate(size);
  if (size == 0) {
    release(p);
    return nullptr;
  }
  void* block = static_cast<char*>(p) - kHeader;
  const unsigned c = classOf(block);
  if (c == kLarge) {
    void* grown = std::realloc(block, size + kHeader);
    if (!grown) return nullptr;
    // Still large: a block that shrank keeps its malloc'd size.
    return static_cast<char*>(grown) + kHeader;
  }
  const size_t capacity = classSize(c) - kHeader;
  if (size <= capacity) return p;
  void* moved = allocate(size);
  if (!moved) return nullptr;
  std::memcpy(moved, p, capacity);
  release(p);
  return moved;
}

}  // namespace sluice::http
