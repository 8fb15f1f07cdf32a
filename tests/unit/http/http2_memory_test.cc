#include "proxy/http/http2_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sluice::http {
namespace {

TEST(Http2Memory, AFreedBlockServesTheNextAllocationOfItsSize) {
  Http2Memory memory;
  void* a = memory.allocate(100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  memory.release(a);
  EXPECT_EQ(memory.cachedBytes(), 128u);
  EXPECT_EQ(memory.allocate(90), a) << "same class, same block";
  EXPECT_EQ(memory.cachedBytes(), 0u);
  void* b = memory.allocate(200);
  EXPECT_NE(b, a);
  memory.release(a);
  memory.release(b);
}

TEST(Http2Memory, WhatItKeepsIsBounded) {
  Http2Memory memory;
  std::vector<void*> blocks;
  for (int i = 0; i < 200; ++i) blocks.push_back(memory.allocate(1000));
  for (void* p : blocks) memory.release(p);
  EXPECT_LE(memory.cachedBytes(), Http2Memory::kCacheBytes);
  EXPECT_GT(memory.cachedBytes(), Http2Memory::kCacheBytes / 2);
}

// An upstream session carries a worker's streams to a host: it keeps more.
TEST(Http2Memory, AnUpstreamSessionsBoundIsItsOwn) {
  Http2Memory memory(Http2Memory::kUpstreamCacheBytes);
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(memory.allocate(1000));
  for (void* p : blocks) memory.release(p);
  EXPECT_LE(memory.cachedBytes(), Http2Memory::kUpstreamCacheBytes);
  EXPECT_GT(memory.cachedBytes(), Http2Memory::kCacheBytes) << "beyond a downstream session's bound";
}

TEST(Http2Memory, LargeBlocksAreMallocsOwn) {
  Http2Memory memory;
  void* big = memory.allocate(64 * 1024);
  ASSERT_NE(big, nullptr);
  std::memset(big, 0xab, 64 * 1024);
  memory.release(big);
  EXPECT_EQ(memory.cachedBytes(), 0u);
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
