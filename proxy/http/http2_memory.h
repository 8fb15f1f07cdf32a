#pragma once
// The allocator one nghttp2 session allocates through. nghttp2 allocates
// and frees a handful of small blocks per stream (the stream, its queued
// frames, copies of header fields); under many concurrent streams that
// churn outruns malloc's per-thread cache and was a quarter of the
// proxy's user time on HTTP/2. Blocks freed here are kept in per-size free
// lists, up to a byte bound, for the session's next streams.
//
// One per session, on the session's loop thread; it must outlive the
// session (nghttp2_session_del frees through it).

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstddef>

namespace sluice::http {

class Http2Memory {
 public:
  // What freed blocks may hold at most by default; the rest go back to
  // malloc. A downstream session carries up to 100 streams; an upstream
  // one carries a worker's requests to a host, up to its stream limit,
  // and is given more.
  static constexpr size_t kCacheBytes = 64 * 1024;
  static constexpr size_t kUpstreamCacheBytes = 512 * 1024;

  explicit Http2Memory(size_t cache_bytes = kCacheBytes) : cache_limit_(cache_bytes) {}
  Http2Memory(const Http2Memory&) = delete;
  Http2Memory& operator=(const Http2Memory&) = delete;
  ~Http2Memory();

  // The table nghttp2_session_*_new3 takes (it copies it).
  nghttp2_mem table();

  void* allocate(size_t size);
  void release(void* p);
  void* reallocate(void* p, size_t size);

  size_t cachedBytes() const { return cached_bytes_; }

 private:
  // Blocks of 32 bytes to 4 KiB, header included; larger ones are plain
  // malloc. The header keeps the block's class, and 16-byte alignment.
  static constexpr size_t kHeader = 16;
  static constexpr size_t kClasses = 8;
  static constexpr unsigned kLarge = kClasses;
  struct FreeBlock {
    FreeBlock* next;
  };

  std::array<FreeBlock*, kClasses> free_{};
  size_t cache_limit_;
  size_t cached_bytes_ = 0;
};

}  // namespace sluice::http
