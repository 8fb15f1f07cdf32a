#pragma once
// ByteArena: a growable run of bytes that only appends, for containers that
// copy many short strings into one allocation (HeaderMap's names and
// values). Unlike std::string, append(n) hands out room without
// initialising it and without an out-of-line call when the room is there,
// so one field is one capacity check and its copies.
//
// Offers the members util::RecycledStorage uses (capacity, clear, empty,
// swap, value_type), so arenas can pass between requests.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

namespace sluice::util {

class ByteArena {
 public:
  using value_type = char;

  ByteArena() = default;
  ~ByteArena() { ::operator delete(data_); }
  ByteArena(const ByteArena& o) { copyFrom(o); }
  ByteArena& operator=(const ByteArena& o) {
    if (this != &o) {
      size_ = 0;
      copyFrom(o);
    }
    return *this;
  }
  ByteArena(ByteArena&& o) noexcept { swap(o); }
  ByteArena& operator=(ByteArena&& o) noexcept {
    ByteArena gone(std::move(*this));
    swap(o);
    return *this;
  }

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  void swap(ByteArena& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }

  void reserve(size_t n) {
    if (n > capacity_) grow(n);
  }
  // n more bytes at the end, uninitialised, for the caller to fill; valid
  // until the next append or reserve.
  char* append(size_t n) {
    if (capacity_ - size_ < n) grow(std::max(size_ + n, 2 * capacity_));
    char* at = data_ + size_;
    size_ += n;
    return at;
  }

 private:
  void grow(size_t n) {
    char* bigger = static_cast<char*>(::operator new(n));
    if (size_ > 0) std::memcpy(bigger, data_, size_);
    ::operator delete(data_);
    data_ = bigger;
    capacity_ = n;
  }
  void copyFrom(const ByteArena& o) {
    reserve(o.size_);
    if (o.size_ > 0) std::memcpy(data_, o.data_, o.size_);
    size_ = o.size_;
  }

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace sluice::util
