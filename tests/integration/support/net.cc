#include "tests/integration/support/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace sluice::itest {

int Deadline::pollMs() const {
  auto left = at_ - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<Millis>(left).count();
  return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

long long msSince(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start).count();
}

bool waitUntil(const std::function<bool()>& pred, Millis timeout) {
  Deadline deadline(timeout);
  for (;;) {
    if (pred()) return true;
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(Millis(5));
  }
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Waits for `events` on fd. Returns revents, 0 on deadline, -1 on poll error.
int waitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, deadline.pollMs());
    if (n > 0) return p.revents;
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

}  // namespace

Fd listenLoopback(int backlog) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(0);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd.get(), backlog) != 0) {
    std::fprintf(stderr, "listenLoopback: %s\n", std::strerror(errno));
    std::abort();
  }
  return fd;
}

uint16_t localPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

Fd connectLoopback(uint16_t port, Millis timeout, int* err, int rcvbuf) {
  int dummy;
  if (!err) err = &dummy;
  *err = 0;
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    *err = errno;
    return {};
  }
  if (rcvbuf > 0) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS) {
      *err = errno;
      return {};
    }
    int ev = waitFor(fd.get(), POLLOUT, Deadline(timeout));
    if (ev == 0) {
      *err = ETIMEDOUT;
      return {};
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (ev < 0 || soerr != 0) {
      *err = soerr ? soerr : EIO;
      return {};
    }
  }
  // Back to blocking: every helper polls first and uses MSG_DONTWAIT anyway.
  int flags = 0;
  ::ioctl(fd.get(), FIONBIO, &flags);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool sendAll(int fd, const void* data, size_t len, Deadline deadline, int* err) {
  int dummy;
  if (!err) err = &dummy;
  *err = 0;
  auto* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      *err = errno;
      return false;
    }
    int ev = waitFor(fd, POLLOUT, deadline);
    if (ev == 0) {
      *err = ETIMEDOUT;
      return false;
    }
    if (ev < 0) {
      *err = errno;
      return false;
    }
  }
  return true;
}

ssize_t recvSome(int fd, void* buf, size_t len, Deadline deadline, int* err) {
  int dummy;
  if (!err) err = &dummy;
  *err = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buf, len, MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *err = errno;
      return -1;
    }
    int ev = waitFor(fd, POLLIN, deadline);
    if (ev == 0) {
      *err = ETIMEDOUT;
      return -1;
    }
    if (ev < 0) {
      *err = errno;
      return -1;
    }
  }
}

std::string recvExactly(int fd, size_t n, Deadline deadline, int* err) {
  int dummy;
  if (!err) err = &dummy;
  *err = 0;
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = recvSome(fd, out.data() + got, n - got, deadline, err);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

const char* closeKindName(CloseKind kind) {
  switch (kind) {
    case CloseKind::kEof: return "EOF";
    case CloseKind::kReset: return "RST (ECONNRESET)";
    case CloseKind::kTimeout: return "still open at the deadline";
    case CloseKind::kError: return "read error";
  }
  return "?";
}

ReadToClose readUntilClosed(int fd, Deadline deadline, size_t max_keep) {
  ReadToClose r;
  char buf[64 * 1024];
  for (;;) {
    int err = 0;
    ssize_t n = recvSome(fd, buf, sizeof buf, deadline, &err);
    if (n > 0) {
      r.bytes += static_cast<uint64_t>(n);
      size_t keep = std::min(static_cast<size_t>(n), max_keep - std::min(max_keep, r.data.size()));
      r.data.append(buf, keep);
      continue;
    }
    if (n == 0) {
      r.how = CloseKind::kEof;
    } else if (err == ETIMEDOUT) {
      r.how = CloseKind::kTimeout;
    } else if (err == ECONNRESET) {
      r.how = CloseKind::kReset;
    } else {
      r.how = CloseKind::kError;
    }
    r.err = err;
    return r;
  }
}

std::string echoRoundTrip(int fd, std::string_view msg, Millis timeout) {
  Deadline d(timeout);
  int err = 0;
  if (!sendAll(fd, msg, d, &err)) return std::string("send failed: ") + std::strerror(err);
  std::string got = recvExactly(fd, msg.size(), d, &err);
  if (got.size() != msg.size()) {
    return "echo of " + std::to_string(msg.size()) + " bytes: got " + std::to_string(got.size()) +
           " then " + (err == 0 ? std::string("EOF") : std::strerror(err));
  }
  if (got != msg) return "echo came back different: '" + got.substr(0, 64) + "'";
  return {};
}

void shutdownWrite(int fd) { ::shutdown(fd, SHUT_WR); }

void setLingerZero(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

void setSendBuffer(int fd, int bytes) {
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

}  // namespace sluice::itest
