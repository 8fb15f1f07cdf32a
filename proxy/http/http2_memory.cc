#include "proxy/http/http2_memory.h"

#include <bit>
#include <cstdlib>
#include <cstring>

namespace sluice::http {
namespace {

constexpr size_t kSmallest = 32;

size_t classSize(unsigned c) { return kSmallest << c; }

unsigned& classOf(void* block) { return *static_cast<unsigned*>(block); }

}  // namespace

Http2Memory::~Http2Memory() {
  for (FreeBlock* head : free_) {
    while (head) {
      FreeBlock* next = head->next;
      std::free(head);
      head = next;
    }
  }
}

nghttp2_mem Http2Memory::table() {
  nghttp2_mem mem{};
  mem.mem_user_data = this;
  mem.malloc = [](size_t size, void* self) { return static_cast<Http2Memory*>(self)->allocate(size); };
  mem.free = [](void* p, void* self) { static_cast<Http2Memory*>(self)->release(p); };
  mem.calloc = [](size_t n, size_t size, void* self) -> void* {
    if (size != 0 && n > SIZE_MAX / size) return nullptr;
    void* p = static_cast<Http2Memory*>(self)->allocate(n * size);
    if (p) std::memset(p, 0, n * size);
    return p;
  };
  mem.realloc = [](void* p, size_t size, void* self) { return static_cast<Http2Memory*>(self)->reallocate(p, size); };
  return mem;
}

void* Http2Memory::allocate(size_t size) {
  if (size > SIZE_MAX - kHeader) return nullptr;
  const size_t total = size + kHeader;
  unsigned c =
      total <= kSmallest ? 0 : static_cast<unsigned>(std::bit_width(total - 1) - std::bit_width(kSmallest - 1));
  void* block = nullptr;
  if (c >= kClasses) {
    c = kLarge;
    block = std::malloc(total);
  } else if (free_[c]) {
    block = free_[c];
    free_[c] = free_[c]->next;
    cached_bytes_ -= classSize(c);
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
  if (c == kLarge || cached_bytes_ + classSize(c) > cache_limit_) {
    std::free(block);
    return;
  }
  auto* f = static_cast<FreeBlock*>(block);
  f->next = free_[c];
  free_[c] = f;
  cached_bytes_ += classSize(c);
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
