// Buffer: slice chain semantics, zero-copy moves, reserve/commit, pool reuse.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>

#include "proxy/net/buffer.h"

namespace sluice::net {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST(BufferTest, AddDrainAcrossSlices) {
  Buffer b;
  const std::string data = pattern(3 * Buffer::kSliceSize + 123);
  b.add(data);
  EXPECT_EQ(b.length(), data.size());
  EXPECT_EQ(b.toString(), data);
  b.drain(Buffer::kSliceSize + 5);
  EXPECT_EQ(b.toString(), data.substr(Buffer::kSliceSize + 5));
  b.drain(b.length());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.toString(), "");
}

TEST(BufferTest, MoveAllTransfersSlicesAndEmptiesSource) {
  Buffer a, b;
  a.add("hello ");
  b.add(pattern(2 * Buffer::kSliceSize));
  a.move(b);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.toString(), "hello " + pattern(2 * Buffer::kSliceSize));
}

TEST(BufferTest, MovePartialKeepsOrderAndRemainder) {
  Buffer src, dst;
  const std::string data = pattern(Buffer::kSliceSize * 2 + 100);
  src.add(data);
  dst.move(src, Buffer::kSliceSize + 10);
  EXPECT_EQ(dst.toString(), data.substr(0, Buffer::kSliceSize + 10));
  EXPECT_EQ(src.toString(), data.substr(Buffer::kSliceSize + 10));
  dst.move(src, 1 << 30);
  EXPECT_EQ(dst.toString(), data);
  EXPECT_TRUE(src.empty());
}

TEST(BufferTest, ReserveCommitAppendsOnlyCommittedBytes) {
  Buffer b;
  b.add("ab");
  iovec iov[4];
  const size_t n = b.reserve(40000, iov, 4);
  ASSERT_GE(n, 2u);
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) total += iov[i].iov_len;
  EXPECT_GE(total, 40000u);
  // Fill the first iovec entirely and 5 bytes of the second, like a short readv.
  std::memset(iov[0].iov_base, 'x', iov[0].iov_len);
  std::memset(iov[1].iov_base, 'y', 5);
  b.commit(iov[0].iov_len + 5);
  const std::string s = b.toString();
  EXPECT_EQ(s.size(), 2 + iov[0].iov_len + 5);
  EXPECT_EQ(s.substr(0, 2), "ab");
  EXPECT_EQ(s.back(), 'y');
  // Unused reserved slices are released: a following add continues right after.
  b.add("z");
  EXPECT_EQ(b.toString().back(), 'z');
  EXPECT_EQ(b.length(), s.size() + 1);
}

TEST(BufferTest, CommitZeroLeavesBufferUnchanged) {
  Buffer b;
  b.add("keep");
  iovec iov[4];
  b.reserve(100000, iov, 4);
  b.commit(0);
  EXPECT_EQ(b.toString(), "keep");
}

TEST(BufferTest, PeekCoversAllReadableBytes) {
  Buffer b;
  const std::string data = pattern(Buffer::kSliceSize * 3);
  b.add(data);
  b.drain(100);
  iovec iov[8];
  const size_t n = b.peek(iov, 8);
  std::string joined;
  for (size_t i = 0; i < n; ++i) joined.append(static_cast<char*>(iov[i].iov_base), iov[i].iov_len);
  EXPECT_EQ(joined, data.substr(100));
}

TEST(BufferTest, SlicesReturnToThePoolAndAreReused) {
  const size_t before = bufferPoolFreeSlices();
  {
    Buffer b;
    b.add(pattern(Buffer::kSliceSize * 4));
  }
  EXPECT_GE(bufferPoolFreeSlices(), std::max<size_t>(before, 4));  // returned, not freed
  const size_t pooled = bufferPoolFreeSlices();
  {
    Buffer b;
    b.add(pattern(Buffer::kSliceSize * 2));
    EXPECT_EQ(bufferPoolFreeSlices(), pooled - 2);  // taken from the pool, not malloc
  }
}

// Buffers that live one request (an HTTP/2 stream's body) hand their slice
// list to the next buffer on the thread: it starts empty, and moving and
// reading through it keep every byte in order.
TEST(BufferTest, ABufferMadeAfterAnotherDiedStartsEmptyAndKeepsOrder) {
  {
    Buffer dying;
    dying.add(pattern(Buffer::kSliceSize * 3));
  }
  Buffer source;
  source.add("first ");
  Buffer next;
  EXPECT_TRUE(next.empty());
  next.move(source);
  Buffer more;
  more.add("second");
  next.move(more);
  EXPECT_EQ(next.length(), 12u);
  EXPECT_EQ(next.toString(), "first second");
}

// The overload manager subtracts free pooled slices from the heap in use:
// another thread's pool must show up, and go when that thread ends.
TEST(BufferTest, PooledSliceBytesCountsEveryThreadsPool) {
  const size_t before = pooledSliceBytes();
  size_t with_thread = 0;
  std::thread t([&] {
    {
      Buffer b;
      b.add(pattern(Buffer::kSliceSize * 3));
    }
    with_thread = pooledSliceBytes();
  });
  t.join();
  EXPECT_GE(with_thread, before + 3 * Buffer::kSliceSize);
  EXPECT_EQ(pooledSliceBytes(), before);  // the thread's pool went with it
}

}  // namespace
// A peer trickling bytes makes one slice per read; copying a prefix must
// walk them all (it once re-read the first 64 forever).
TEST(BufferTest, CopyOutWalksEverySlice) {
  Buffer b;
  std::string expect;
  for (int i = 0; i < 300; ++i) {
    Buffer one;
    one.add(std::string(1, static_cast<char>('a' + i % 26)));
    expect += static_cast<char>('a' + i % 26);
    b.move(one);
  }
  std::string out;
  b.copyOut(250, out);
  EXPECT_EQ(out, expect.substr(0, 250));
}

TEST(BufferTest, MoveCompactCopiesSmallSlicesIntoTheTail) {
  Buffer b;
  b.add("start");
  for (int i = 0; i < 300; ++i) {
    Buffer one;
    one.add("x");
    b.moveCompact(one);
    EXPECT_TRUE(one.empty());
  }
  EXPECT_EQ(b.length(), 305u);
  iovec iov[8];
  EXPECT_EQ(b.peek(iov, 8), 1u) << "300 one-byte reads stay in one slice";
  // A large slice still moves whole, after what was there.
  Buffer big;
  big.add(std::string(4096, 'y'));
  b.moveCompact(big);
  EXPECT_EQ(b.length(), 305u + 4096u);
  EXPECT_EQ(b.toString().substr(0, 6), "startx");
}

}  // namespace sluice::net
