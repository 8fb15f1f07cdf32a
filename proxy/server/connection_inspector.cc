#include "proxy/server/connection_inspector.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::server {
namespace {

// Room for the largest ClientHello we parse plus its record headers. Larger
// ones are rare enough to go to the TLS chains without SNI/ALPN.
constexpr size_t kPeekBytes = tls::kMaxClientHello + 64;

}  // namespace

ConnectionInspector::ConnectionInspector(event::Loop& loop, Owner& owner, int fd, const ip::Address& peer,
                                         event::Duration timeout)
    : loop_(loop), owner_(owner), fd_(fd), peer_(peer) {
  timer_ = loop_.createTimer([this] { finish(Outcome::Timeout); });
  timer_->enable(timeout);
  // Edge-triggered: every arrival of new bytes raises one event, and the
  // first one is raised at once when the ClientHello is already queued.
  loop_.addFd(fd_, this, EPOLLIN | EPOLLRDHUP | EPOLLET);
}

ConnectionInspector::~ConnectionInspector() {
  if (fd_ >= 0) {
    loop_.removeFd(fd_);
    ::close(fd_);
  }
}

int ConnectionInspector::takeFd() {
  const int fd = fd_;
  if (fd_ >= 0) loop_.removeFd(fd_);
  fd_ = -1;
  return fd;
}

void ConnectionInspector::onIoEvent(uint32_t events) {
  if (done_) return;
  // One buffer per worker thread: peeking allocates nothing per connection.
  static thread_local char buf[kPeekBytes];
  ssize_t n;
  do {
    n = ::recv(fd_, buf, sizeof(buf), MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    finish(Outcome::Closed);
    return;
  }
  if (n == 0) {
    finish(Outcome::Closed);
    return;
  }
  switch (tls::parseClientHello(std::string_view(buf, static_cast<size_t>(n)), hello_)) {
    case tls::ClientHelloStatus::NotTls:
      finish(Outcome::Plaintext);
      return;
    case tls::ClientHelloStatus::Tls:
      has_hello_ = true;
      finish(Outcome::Tls);
      return;
    case tls::ClientHelloStatus::Invalid:
      // Looks like TLS but is not a ClientHello we can read: the TLS chains
      // get it without SNI/ALPN, and the handshake reports what is wrong.
      finish(Outcome::Tls);
      return;
    case tls::ClientHelloStatus::NeedMore:
      // Nothing more can come (peer FIN) or fit: decide with what we have.
      if ((events & (EPOLLRDHUP | EPOLLHUP)) || static_cast<size_t>(n) == sizeof(buf)) finish(Outcome::Tls);
      return;
  }
}

void ConnectionInspector::finish(Outcome outcome) {
  if (done_) return;
  done_ = true;
  timer_->disable();
  owner_.onInspected(*this, outcome);
}

}  // namespace sluice::server
