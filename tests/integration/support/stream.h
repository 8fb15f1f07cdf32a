#pragma once
// Deterministic byte streams and their checksums, for moving tens of MB
// through the proxy and proving they arrived intact.
//
// A stream is identified by a seed: byte i is a pure function of (seed, i),
// so a sender can produce it in any chunking and a receiver can checksum it
// in any chunking and compare with patternChecksum(seed, length).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

#include "tests/integration/support/net.h"

namespace sluice::itest {

class PatternGen {
 public:
  explicit PatternGen(uint64_t seed) : seed_(seed) {}
  // Writes the next n bytes of the stream.
  void fill(char* out, size_t n);
  uint64_t offset() const { return offset_; }

 private:
  uint64_t word(uint64_t index) const;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// A fast streaming 64-bit checksum, independent of how the input is chunked.
class Checksum {
 public:
  void update(const void* data, size_t n);
  uint64_t value() const;
  uint64_t bytes() const { return bytes_; }

 private:
  void mix(uint64_t w) { h_ = rotl((h_ ^ w) * 0x9E3779B97F4A7C15ULL, 31); }
  static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  uint64_t h_ = 0xcbf29ce484222325ULL;
  uint64_t tail_ = 0;
  size_t tail_len_ = 0;
  uint64_t bytes_ = 0;
};

uint64_t patternChecksum(uint64_t seed, uint64_t length);
// The stream's bytes [0, n) as a string (for small messages).
std::string patternBytes(uint64_t seed, size_t n);

// Reads a byte stream incrementally, checksumming everything it receives.
class StreamReader {
 public:
  explicit StreamReader(int fd) : fd_(fd) {}
  // One read of at most `max` bytes: >0 read, 0 at EOF, -1 on error or
  // deadline (see err()).
  ssize_t readOnce(size_t max, Deadline deadline);
  // Reads until EOF, pausing `pause` after each read of up to `chunk` bytes
  // (a slow reader). True when EOF was reached.
  bool readToEof(Deadline deadline, size_t chunk = 256 * 1024,
                 std::chrono::microseconds pause = std::chrono::microseconds(0));
  uint64_t bytes() const { return sum_.bytes(); }
  uint64_t checksum() const { return sum_.value(); }
  bool eof() const { return eof_; }
  int err() const { return err_; }
  std::string describe() const;  // "N bytes, then EOF|<errno text>"

 private:
  int fd_;
  Checksum sum_;
  bool eof_ = false;
  int err_ = 0;
  std::string buf_;
};

struct TransferOptions {
  uint64_t send_seed = 0;
  uint64_t send_len = 0;
  // shutdown(SHUT_WR) once everything is sent.
  bool shutdown_after_send = true;
  // Bytes sent so far, for observers on other threads.
  std::atomic<uint64_t>* sent_progress = nullptr;
};

struct TransferResult {
  uint64_t sent = 0;
  bool send_done = false;  // all send_len bytes sent
  uint64_t received = 0;
  uint64_t received_checksum = 0;
  bool eof = false;  // the peer's EOF was read
  int send_err = 0;
  int recv_err = 0;
  std::string describe() const;
};

// Full duplex on one socket: sends the pattern stream while reading and
// checksumming everything the peer sends until its EOF; both at full speed.
TransferResult transfer(int fd, const TransferOptions& opts, Deadline deadline);

}  // namespace sluice::itest
