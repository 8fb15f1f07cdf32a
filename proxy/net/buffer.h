#pragma once
// Buffer: a chain of fixed-size slices. Bytes are read from a socket straight
// into slices and written from them with writev; moving data between buffers
// moves slices, never bytes, so a proxied byte is copied 0 times in user
// space. Slices come from a per-thread free list: steady-state traffic
// allocates nothing.
//
// Not thread-safe: a buffer belongs to the thread of its connection.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::net {

class Buffer {
 public:
  static constexpr size_t kSliceSize = 16 * 1024;

  Buffer() = default;
  ~Buffer();
  Buffer(Buffer&& o) noexcept;
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t length() const { return length_; }
  bool empty() const { return length_ == 0; }

  // Copies bytes in (small local writes: header fields, chunk lines). Inline
  // for the common case, bytes that fit the last slice: an encoded header
  // block makes several of these per field.
  void add(std::string_view data) {
    if (head_ < slices_.size()) {
      Slice& s = slices_.back();
      if (s.writable() >= data.size()) {
        if (!data.empty()) std::memcpy(s.mem + s.end, data.data(), data.size());
        s.end += data.size();
        length_ += data.size();
        return;
      }
    }
    addSlow(data);
  }
  // Copies `parts` in, in order, with one room check for all of them (a
  // header field is four parts).
  void addParts(std::initializer_list<std::string_view> parts) {
    size_t n = 0;
    for (const std::string_view p : parts) n += p.size();
    if (head_ < slices_.size() && slices_.back().writable() >= n) {
      Slice& s = slices_.back();
      uint8_t* to = s.mem + s.end;
      for (const std::string_view p : parts) {
        if (!p.empty()) std::memcpy(to, p.data(), p.size());
        to += p.size();
      }
      s.end += n;
      length_ += n;
      return;
    }
    for (const std::string_view p : parts) add(p);
  }
  // Appends a copy of all of `other` (left as is): for bytes that must be
  // sent again, like a request body kept for a retry.
  void copyFrom(const Buffer& other);
  // Appends all of `other` (left empty) by moving slices.
  void move(Buffer& other);
  // Like move(), but a slice of `other` holding little (a trickling peer's
  // read) is copied into our last slice when it fits: a buffer that
  // accumulates many small reads stays a few slices, not one per read.
  void moveCompact(Buffer& other);
  // Appends a copy of the first n bytes (n <= length()) to `out`.
  void copyOut(size_t n, std::string& out) const;
  // Appends up to `n` bytes of `other`, moving whole slices and copying at most one partial slice.
  void move(Buffer& other, size_t n);
  // Drops the first n bytes (n <= length()).
  void drain(size_t n);
  void clear() { drain(length_); }

  // Reading from a socket: reserve() exposes free space at the tail as up to
  // max_iov iovecs totalling at least `want` bytes; commit(n) then appends the
  // first n of those bytes.
  size_t reserve(size_t want, iovec* iov, size_t max_iov);
  void commit(size_t n);

  // Writing to a socket: the readable bytes as up to max_iov iovecs.
  size_t peek(iovec* iov, size_t max_iov) const;

  std::string toString() const;

 private:
  struct Slice {
    uint8_t* mem = nullptr;
    size_t begin = 0;  // first readable byte
    size_t end = 0;    // one past the last readable byte
    size_t readable() const { return end - begin; }
    size_t writable() const { return kSliceSize - end; }
  };
  // Appends `s` to the list, reclaiming the dead prefix or taking a spare
  // list before the vector would grow.
  void append(const Slice& s);
  void addSlow(std::string_view data);
  Slice& pushSlice();
  void popFront();

  std::vector<Slice> slices_;
  size_t head_ = 0;  // index of the first live slice in slices_
  size_t length_ = 0;
  size_t reserved_ = 0;  // slices at the tail exposed by the last reserve()
};

// Per-thread slice pool statistics (tests, debugging).
size_t bufferPoolFreeSlices();
// Bytes of free slices held in every thread's pool: allocated, but ready for
// reuse rather than in use. Any thread; takes a lock the data path never does.
size_t pooledSliceBytes();

}  // namespace sluice::net
