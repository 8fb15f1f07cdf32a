#pragma once
// Blocking socket helpers for the integration tests. Every call that can wait
// takes a Deadline and polls; nothing here blocks without a bound. Only
// 127.0.0.1 is ever used. Sends use MSG_NOSIGNAL, so a peer that went away
// shows up as EPIPE, never as SIGPIPE.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::itest {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

class Deadline {
 public:
  explicit Deadline(Clock::duration d) : at_(Clock::now() + d) {}
  bool expired() const { return Clock::now() >= at_; }
  // Remaining time as a poll() timeout: >= 0, rounded up to whole ms.
  int pollMs() const;
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

// Milliseconds elapsed since `start`.
long long msSince(Clock::time_point start);

// Polls `pred` every few ms until it holds or `timeout` passes; returns its
// last result.
bool waitUntil(const std::function<bool()>& pred, Millis timeout);

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset();

 private:
  int fd_ = -1;
};

// A TCP listener on 127.0.0.1:0 (CLOEXEC). Aborts the test binary on failure:
// nothing can run without loopback.
Fd listenLoopback(int backlog);
uint16_t localPort(int fd);

// Connects to 127.0.0.1:port. On failure returns an invalid Fd and stores the
// errno in *err (ETIMEDOUT when `timeout` passed first). rcvbuf > 0 fixes
// SO_RCVBUF before connecting (turns off receive-buffer autotuning).
Fd connectLoopback(uint16_t port, Millis timeout = Millis(2000), int* err = nullptr,
                   int rcvbuf = 0);

// Sends everything. False on error or deadline; *err gets the errno
// (ETIMEDOUT on deadline).
bool sendAll(int fd, const void* data, size_t len, Deadline deadline, int* err = nullptr);
inline bool sendAll(int fd, std::string_view data, Deadline deadline, int* err = nullptr) {
  return sendAll(fd, data.data(), data.size(), deadline, err);
}

// One read: >0 bytes, 0 at EOF, -1 on error with *err (ETIMEDOUT on deadline).
ssize_t recvSome(int fd, void* buf, size_t len, Deadline deadline, int* err = nullptr);

// Reads exactly n bytes; returns fewer on EOF, error or deadline (*err says which;
// 0 means EOF).
std::string recvExactly(int fd, size_t n, Deadline deadline, int* err = nullptr);

enum class CloseKind { kEof, kReset, kTimeout, kError };
const char* closeKindName(CloseKind kind);
// For gtest messages.
inline void PrintTo(CloseKind kind, std::ostream* os) { *os << closeKindName(kind); }

struct ReadToClose {
  std::string data;  // first `max_keep` bytes received
  uint64_t bytes = 0;
  CloseKind how = CloseKind::kTimeout;
  int err = 0;
};
// Reads until the peer closes (EOF or RST) or the deadline passes.
ReadToClose readUntilClosed(int fd, Deadline deadline, size_t max_keep = 1 << 20);

// Sends "msg" and expects the same bytes back (an echo round trip). Returns an
// empty string on success, else a description of what the client saw.
std::string echoRoundTrip(int fd, std::string_view msg, Millis timeout = Millis(3000));

void shutdownWrite(int fd);
// After this, close() sends RST instead of FIN.
void setLingerZero(int fd);
void setSendBuffer(int fd, int bytes);

}  // namespace sluice::itest
