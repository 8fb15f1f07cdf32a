#pragma once
// The allocator nghttp2 sessions allocate through. nghttp2 allocates and
// frees a handful of small blocks per stream (the stream, its queued
// frames, copies of header fields); under many concurrent streams that
// churn outruns malloc's per-thread cache and was a quarter of the
// proxy's user time on HTTP/2. Blocks freed here are kept in per-size free
// lists, up to a byte bound, for the next streams.
//
// The lists belong to the thread, not to a session: every session of a
// worker draws on them, so the block a stream gets is the one last freed
// anywhere on the worker, still in cache (per-session lists left each
// block cold by the time its session came back to it), and what is kept
// is bounded per worker whatever the number of connections.
//
// A block freed on another thread joins that thread's lists; blocks freed
// after the thread's exit has destroyed its lists go back to malloc.

#include <nghttp2/nghttp2.h>

#include <cstddef>

namespace sluice::http {

class Http2Memory {
 public:
  // What a thread's freed blocks may hold at most; the rest go back to malloc.
  static constexpr size_t kCacheBytes = 1024 * 1024;

  Http2Memory() = delete;  // the lists are the thread's: nothing to hold

  // The table nghttp2_session_*_new3 takes (it copies it).
  static nghttp2_mem table();

  static void* allocate(size_t size);
  static void release(void* p);
  static void* reallocate(void* p, size_t size);

  // What the calling thread's lists hold.
  static size_t cachedBytes();
};

}  // namespace sluice::http
