#include "proxy/net/buffer.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "proxy/util/recycled_storage.h"

namespace sluice::net {
namespace {

// Free slices kept per thread; beyond this they go back to malloc so a burst
// does not pin memory forever.
constexpr size_t kMaxPooled = 1024;

// The pools of every thread, so the overload manager can tell free slices
// (ready for reuse) from slices in use. Locked only when a thread's pool is
// made or destroyed and when the main thread sums them.
struct PoolRegistry {
  std::mutex mu;
  std::vector<const std::atomic<size_t>*> counts;
};
PoolRegistry& registry() {
  static PoolRegistry r;
  return r;
}

struct SlicePool {
  std::vector<uint8_t*> free;
  // free.size(), written by the owning thread only (a relaxed store on its
  // own line), read by pooledSliceBytes() on the main thread.
  alignas(64) std::atomic<size_t> count{0};
  SlicePool() {
    std::lock_guard<std::mutex> lock(registry().mu);
    registry().counts.push_back(&count);
  }
  ~SlicePool() {
    {
      std::lock_guard<std::mutex> lock(registry().mu);
      auto& c = registry().counts;
      c.erase(std::remove(c.begin(), c.end(), &count), c.end());
    }
    for (auto* p : free) std::free(p);
  }
  uint8_t* get() {
    if (!free.empty()) {
      auto* p = free.back();
      free.pop_back();
      count.store(free.size(), std::memory_order_relaxed);
      return p;
    }
    auto* p = static_cast<uint8_t*>(std::malloc(Buffer::kSliceSize));
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void put(uint8_t* p) {
    if (free.size() < kMaxPooled) {
      free.push_back(p);
      count.store(free.size(), std::memory_order_relaxed);
    } else {
      std::free(p);
    }
  }
};

SlicePool& pool() {
  thread_local SlicePool p;
  return p;
}

// The slice lists of buffers that lived as long as one request (an HTTP/2
// stream's body): the next such buffer takes one instead of a malloc.
struct SliceListTag;
template <class List>
using SpareSliceLists = util::RecycledStorage<SliceListTag, List, 1024, 1024>;

}  // namespace

size_t bufferPoolFreeSlices() { return pool().free.size(); }

size_t pooledSliceBytes() {
  std::lock_guard<std::mutex> lock(registry().mu);
  size_t slices = 0;
  for (const auto* c : registry().counts) slices += c->load(std::memory_order_relaxed);
  return slices * Buffer::kSliceSize;
}

Buffer::~Buffer() {
  for (size_t i = head_; i < slices_.size(); ++i) pool().put(slices_[i].mem);
  SpareSliceLists<decltype(slices_)>::give(slices_);
}

Buffer::Buffer(Buffer&& o) noexcept : slices_(std::move(o.slices_)), head_(o.head_), length_(o.length_) {
  o.slices_.clear();
  o.head_ = 0;
  o.length_ = 0;
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    for (size_t i = head_; i < slices_.size(); ++i) pool().put(slices_[i].mem);
    slices_ = std::move(o.slices_);
    head_ = o.head_;
    length_ = o.length_;
    o.slices_.clear();
    o.head_ = 0;
    o.length_ = 0;
  }
  return *this;
}

void Buffer::append(const Slice& s) {
  if (slices_.size() == slices_.capacity()) {
    if (head_ > 0) {
      // Reclaim the dead prefix before growing, so the vector stays small.
      slices_.erase(slices_.begin(), slices_.begin() + static_cast<ptrdiff_t>(head_));
      head_ = 0;
    } else if (slices_.capacity() == 0) {
      SpareSliceLists<decltype(slices_)>::take(slices_);
    }
  }
  slices_.push_back(s);
}

Buffer::Slice& Buffer::pushSlice() {
  append(Slice{pool().get(), 0, 0});
  return slices_.back();
}

void Buffer::popFront() {
  pool().put(slices_[head_].mem);
  ++head_;
  if (head_ == slices_.size()) {
    slices_.clear();
    head_ = 0;
  }
}

void Buffer::addSlow(std::string_view data) {
  while (!data.empty()) {
    Slice* s = (head_ < slices_.size() && slices_.back().writable() > 0) ? &slices_.back() : &pushSlice();
    const size_t n = std::min(s->writable(), data.size());
    std::memcpy(s->mem + s->end, data.data(), n);
    s->end += n;
    length_ += n;
    data.remove_prefix(n);
  }
}

void Buffer::move(Buffer& other) {
  if (other.empty()) return;
  for (size_t i = other.head_; i < other.slices_.size(); ++i) {
    if (other.slices_[i].readable() == 0) {
      pool().put(other.slices_[i].mem);
      continue;
    }
    append(other.slices_[i]);
  }
  length_ += other.length_;
  other.slices_.clear();
  other.head_ = 0;
  other.length_ = 0;
}

void Buffer::moveCompact(Buffer& other) {
  // Small enough that copying it costs less than a slice it would pin.
  constexpr size_t kCopyBelow = 1024;
  while (other.head_ < other.slices_.size()) {
    Slice& s = other.slices_[other.head_];
    const size_t n = s.readable();
    if (n >= kCopyBelow || head_ >= slices_.size() || slices_.back().writable() < n) break;
    Slice& tail = slices_.back();
    std::memcpy(tail.mem + tail.end, s.mem + s.begin, n);
    tail.end += n;
    length_ += n;
    other.length_ -= n;
    other.popFront();
  }
  move(other);
}

void Buffer::copyOut(size_t n, std::string& out) const {
  for (size_t i = head_; i < slices_.size() && n > 0; ++i) {
    const size_t take = std::min(n, slices_[i].readable());
    out.append(reinterpret_cast<const char*>(slices_[i].mem + slices_[i].begin), take);
    n -= take;
  }
}

void Buffer::move(Buffer& other, size_t n) {
  n = std::min(n, other.length_);
  if (n == other.length_) {
    move(other);
    return;
  }
  while (n > 0) {
    Slice& s = other.slices_[other.head_];
    if (s.readable() <= n) {
      n -= s.readable();
      other.length_ -= s.readable();
      length_ += s.readable();
      append(s);
      ++other.head_;
    } else {
      add(std::string_view(reinterpret_cast<const char*>(s.mem + s.begin), n));
      other.drain(n);
      n = 0;
    }
  }
  if (other.head_ == other.slices_.size()) {
    other.slices_.clear();
    other.head_ = 0;
  }
}

void Buffer::drain(size_t n) {
  assert(n <= length_);
  length_ -= n;
  while (n > 0) {
    Slice& s = slices_[head_];
    const size_t take = std::min(n, s.readable());
    s.begin += take;
    n -= take;
    if (s.readable() == 0) popFront();
  }
  // Keep an emptied tail slice? No: release it, an idle connection holds no memory.
  while (head_ < slices_.size() && slices_[head_].readable() == 0 && length_ == 0) popFront();
}

size_t Buffer::reserve(size_t want, iovec* iov, size_t max_iov) {
  size_t count = 0;
  size_t have = 0;
  // Free space in the current tail slice first.
  if (head_ < slices_.size() && slices_.back().writable() > 0 && max_iov > 0) {
    Slice& s = slices_.back();
    iov[count++] = {s.mem + s.end, s.writable()};
    have += s.writable();
  }
  reserved_ = count;
  // Empty slices appended for the rest; commit() keeps only those it fills.
  while (have < want && count < max_iov) {
    Slice& s = pushSlice();
    iov[count++] = {s.mem, kSliceSize};
    have += kSliceSize;
    ++reserved_;
  }
  return count;
}

void Buffer::commit(size_t n) {
  length_ += n;
  // The slices reserve() exposed are the last reserved_ ones.
  assert(reserved_ <= slices_.size() - head_);
  for (size_t i = slices_.size() - reserved_; i < slices_.size() && n > 0; ++i) {
    const size_t take = std::min(n, slices_[i].writable());
    slices_[i].end += take;
    n -= take;
  }
  // Drop empty reserved slices at the tail.
  while (slices_.size() > head_ && slices_.back().readable() == 0) {
    pool().put(slices_.back().mem);
    slices_.pop_back();
  }
  reserved_ = 0;
  if (head_ == slices_.size()) {
    slices_.clear();
    head_ = 0;
  }
}

size_t Buffer::peek(iovec* iov, size_t max_iov) const {
  size_t count = 0;
  for (size_t i = head_; i < slices_.size() && count < max_iov; ++i) {
    if (slices_[i].readable() == 0) continue;
    iov[count++] = {slices_[i].mem + slices_[i].begin, slices_[i].readable()};
  }
  return count;
}

void Buffer::copyFrom(const Buffer& other) {
  for (size_t i = other.head_; i < other.slices_.size(); ++i)
    add({reinterpret_cast<const char*>(other.slices_[i].mem + other.slices_[i].begin), other.slices_[i].readable()});
}

std::string Buffer::toString() const {
  std::string out;
  out.reserve(length_);
  for (size_t i = head_; i < slices_.size(); ++i)
    out.append(reinterpret_cast<const char*>(slices_[i].mem + slices_[i].begin), slices_[i].readable());
  return out;
}

}  // namespace sluice::net
