#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "proxy/net/buffer.h"
#include "proxy/net/transport_socket.h"

namespace sluice::net {

namespace {

// The data-path calls go straight to the kernel: glibc's readv/sendmsg
// wrappers are thread-cancellation points and, in a multi-threaded process,
// toggle the cancellation state around every call. Nothing here is ever
// cancelled, and that bookkeeping was a measurable share of each request.
ssize_t rawReadv(int fd, const iovec* iov, int count) { return ::syscall(SYS_readv, fd, iov, count); }
ssize_t rawSendmsg(int fd, const msghdr* msg, int flags) { return ::syscall(SYS_sendmsg, fd, msg, flags); }

}  // namespace

IoResult RawTransport::doRead(int fd, Buffer& into, size_t max, bool drain) {
  IoResult r;
  while (r.bytes < max) {
    iovec iov[4];
    const size_t want = std::min<size_t>(max - r.bytes, 4 * Buffer::kSliceSize);
    const size_t n_iov = into.reserve(want, iov, 4);
    const ssize_t n = rawReadv(fd, iov, static_cast<int>(n_iov));
    if (n > 0) {
      into.commit(static_cast<size_t>(n));
      r.bytes += static_cast<size_t>(n);
      if (!drain) {
        size_t offered = 0;
        for (size_t i = 0; i < n_iov; ++i) offered += iov[i].iov_len;
        if (static_cast<size_t>(n) < offered) break;  // the socket is empty now
      }
      continue;
    }
    into.commit(0);
    if (n == 0) {
      r.status = IoResult::Status::Closed;
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN) {
      r.status = IoResult::Status::Error;
      r.err = errno;
    }
    break;
  }
  return r;
}

IoResult RawTransport::doWrite(int fd, Buffer& from) {
  IoResult r;
  while (!from.empty()) {
    iovec iov[16];
    const size_t n_iov = from.peek(iov, 16);
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n_iov;
    // sendmsg, not writev: MSG_NOSIGNAL instead of a process-wide SIGPIPE ignore.
    const ssize_t n = rawSendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n > 0) {
      from.drain(static_cast<size_t>(n));
      r.bytes += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      r.status = IoResult::Status::Error;
      r.err = errno;
    }
    break;
  }
  return r;
}

void RawTransport::shutdownWrite(int fd) { ::shutdown(fd, SHUT_WR); }

}  // namespace sluice::net
