#include "proxy/http/http2_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace sluice::http {
namespace {

// The lists are the thread's: other tests on this thread may have left
// blocks in them, so these count from what was there.
TEST(Http2Memory, AFreedBlockServesTheNextAllocationOfItsSize) {
  Http2Memory memory;
  void* a = memory.allocate(100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  const size_t before = Http2Memory::cachedBytes();
  memory.release(a);
  EXPECT_EQ(Http2Memory::cachedBytes(), before + 128);
  EXPECT_EQ(memory.allocate(90), a) << "same class, same block";
  EXPECT_EQ(Http2Memory::cachedBytes(), before);
  void* b = memory.allocate(200);
  EXPECT_NE(b, a);
  memory.release(a);
  memory.release(b);
}

TEST(Http2Memory, WhatAThreadKeepsIsBounded) {
  Http2Memory memory;
  std::vector<void*> blocks;
  for (int i = 0; i < 2000; ++i) blocks.push_back(memory.allocate(1000));
  for (void* p : blocks) memory.release(p);
  EXPECT_LE(Http2Memory::cachedBytes(), Http2Memory::kCacheBytes);
  EXPECT_GT(Http2Memory::cachedBytes(), Http2Memory::kCacheBytes / 2);
}

// Every session of a worker draws on the same lists: the block one session
// freed last is the next one another gets, still in cache.
TEST(Http2Memory, SessionsOfAThreadShareItsBlocks) {
  Http2Memory first;
  Http2Memory second;
  void* a = first.allocate(300);
  first.release(a);
  EXPECT_EQ(second.allocate(300), a);
  second.release(a);
}

TEST(Http2Memory, AnotherThreadKeepsItsOwnBlocks) {
  Http2Memory memory;
  void* mine = memory.allocate(700);
  memory.release(mine);
  void* theirs = nullptr;
  size_t theirs_cached_before = 0;
  std::thread([&] {
    theirs_cached_before = Http2Memory::cachedBytes();
    theirs = memory.allocate(700);
    memory.release(theirs);
  }).join();
  EXPECT_EQ(theirs_cached_before, 0u) << "a new thread starts with empty lists";
  EXPECT_NE(theirs, mine) << "not served from this thread's lists";
  void* again = memory.allocate(700);
  EXPECT_EQ(again, mine);
  memory.release(again);
}

TEST(Http2Memory, LargeBlocksAreMallocsOwn) {
  Http2Memory memory;
  const size_t before = Http2Memory::cachedBytes();
  void* big = memory.allocate(64 * 1024);
  ASSERT_NE(big, nullptr);
  std::memset(big, 0xab, 64 * 1024);
  memory.release(big);
  EXPECT_EQ(Http2Memory::cachedBytes(), before);
}

TEST(Http2Memory, ReallocKeepsTheBytesAcrossClassesAndIntoLarge) {
  Http2Memory memory;
  nghttp2_mem mem = memory.table();
  auto* p = static_cast<unsigned char*>(mem.malloc(10, mem.mem_user_data));
  for (int i = 0; i < 10; ++i) p[i] = static_cast<unsigned char>(i);
  p = static_cast<unsigned char*>(mem.realloc(p, 12, mem.mem_user_data));  // fits its block
  p = static_cast<unsigned char*>(mem.realloc(p, 3000, mem.mem_user_data));
  p[2999] = 7;
  p = static_cast<unsigned char*>(mem.realloc(p, 100000, mem.mem_user_data));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p[i], i);
  EXPECT_EQ(p[2999], 7);
  p[99999] = 9;
  p = static_cast<unsigned char*>(mem.realloc(p, 200000, mem.mem_user_data));
  EXPECT_EQ(p[99999], 9);
  mem.free(p, mem.mem_user_data);
  mem.free(nullptr, mem.mem_user_data);
}

TEST(Http2Memory, CallocZeroesAReusedBlockAndRefusesOverflow) {
  Http2Memory memory;
  nghttp2_mem mem = memory.table();
  auto* p = static_cast<unsigned char*>(mem.malloc(64, mem.mem_user_data));
  std::memset(p, 0xff, 64);
  mem.free(p, mem.mem_user_data);
  auto* q = static_cast<unsigned char*>(mem.calloc(8, 8, mem.mem_user_data));
  EXPECT_EQ(q, p);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(q[i], 0) << i;
  mem.free(q, mem.mem_user_data);
  EXPECT_EQ(mem.calloc(SIZE_MAX / 2, 4, mem.mem_user_data), nullptr);
}

}  // namespace
}  // namespace sluice::http
