#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "proxy/http/http2_memory.h"

namespace sluice::http {
namespace {

// The lists are the thread's: other tests on this thread may have left
// blocks in them, so these count from what was there.
TEST(Http2Memory, AFreedBlockServesTheNextAllocationOfItsSize) {
  void* a = Http2Memory::allocate(100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  const size_t before = Http2Memory::cachedBytes();
  Http2Memory::release(a);
  EXPECT_EQ(Http2Memory::cachedBytes(), before + 128);
  EXPECT_EQ(Http2Memory::allocate(90), a) << "same class, same block";
  EXPECT_EQ(Http2Memory::cachedBytes(), before);
  void* b = Http2Memory::allocate(200);
  EXPECT_NE(b, a);
  Http2Memory::release(a);
  Http2Memory::release(b);
}

TEST(Http2Memory, WhatAThreadKeepsIsBounded) {
  std::vector<void*> blocks;
  for (int i = 0; i < 2000; ++i) blocks.push_back(Http2Memory::allocate(1000));
  for (void* p : blocks) Http2Memory::release(p);
  EXPECT_LE(Http2Memory::cachedBytes(), Http2Memory::kCacheBytes);
  EXPECT_GT(Http2Memory::cachedBytes(), Http2Memory::kCacheBytes / 2);
}

// Every session of a worker draws on the same lists: the block one session
// freed last is the next one another gets, still in cache.
TEST(Http2Memory, SessionsOfAThreadShareItsBlocks) {
  nghttp2_mem first = Http2Memory::table();
  nghttp2_mem second = Http2Memory::table();
  void* a = first.malloc(300, first.mem_user_data);
  first.free(a, first.mem_user_data);
  EXPECT_EQ(second.malloc(300, second.mem_user_data), a);
  second.free(a, second.mem_user_data);
}

TEST(Http2Memory, AnotherThreadKeepsItsOwnBlocks) {
  void* mine = Http2Memory::allocate(700);
  Http2Memory::release(mine);
  void* theirs = nullptr;
  size_t theirs_cached_before = 0;
  std::thread([&] {
    theirs_cached_before = Http2Memory::cachedBytes();
    theirs = Http2Memory::allocate(700);
    Http2Memory::release(theirs);
  }).join();
  EXPECT_EQ(theirs_cached_before, 0u) << "a new thread starts with empty lists";
  EXPECT_NE(theirs, mine) << "not served from this thread's lists";
  void* again = Http2Memory::allocate(700);
  EXPECT_EQ(again, mine);
  Http2Memory::release(again);
}

TEST(Http2Memory, LargeBlocksAreMallocsOwn) {
  const size_t before = Http2Memory::cachedBytes();
  void* big = Http2Memory::allocate(64 * 1024);
  ASSERT_NE(big, nullptr);
  std::memset(big, 0xab, 64 * 1024);
  Http2Memory::release(big);
  EXPECT_EQ(Http2Memory::cachedBytes(), before);
}

TEST(Http2Memory, ReallocKeepsTheBytesAcrossClassesAndIntoLarge) {
  nghttp2_mem mem = Http2Memory::table();
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
  nghttp2_mem mem = Http2Memory::table();
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
