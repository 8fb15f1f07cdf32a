#include "proxy/net/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "proxy/net/socket_util.h"

namespace sluice::net {
namespace {

// Per read call, and calls per readiness event: bounds how long one busy
// connection holds the loop before others get a turn.
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerEvent = 4;
constexpr auto kFlushCloseTimeout = std::chrono::seconds(5);

std::atomic<uint64_t> next_connection_id{1};

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

std::string_view closeReasonName(CloseReason r) {
  switch (r) {
    case CloseReason::None: return "none";
    case CloseReason::Done: return "done";
    case CloseReason::Local: return "local";
    case CloseReason::PeerReset: return "peer_reset";
    case CloseReason::ConnectFailed: return "connect_failed";
    case CloseReason::IoError: return "io_error";
    case CloseReason::HandshakeFailed: return "handshake_failed";
    case CloseReason::HandshakeTimeout: return "handshake_timeout";
  }
  return "unknown";
}

Connection::Connection(event::Loop& loop, int fd, const ip::Address& peer, std::unique_ptr<TransportSocket> transport,
                       State state)
    : loop_(loop),
      fd_(fd),
      peer_(peer),
      transport_(std::move(transport)),
      state_(state),
      id_(next_connection_id.fetch_add(1, std::memory_order_relaxed)),
      outbound_(state == State::Connecting),
      handshaking_(transport_->hasHandshake()) {
  resume_timer_ = loop_.createTimer([this] {
    if (connect_failed_early_) {
      closeNow(CloseReason::ConnectFailed, false);
    } else {
      doRead(/*drain=*/true);
    }
  });
  if (fd_ >= 0) loop_.addFd(fd_, this);
}

ip::Address Connection::localAddress() const { return net::localAddress(fd_); }

Connection::~Connection() {
  if (fd_ >= 0) {
    loop_.removeFd(fd_);
    ::close(fd_);
  }
}

std::unique_ptr<Connection> Connection::accepted(event::Loop& loop, int fd, const ip::Address& peer,
                                                 std::unique_ptr<TransportSocket> transport) {
  setNoDelay(fd);
  std::unique_ptr<Connection> c(new Connection(loop, fd, peer, std::move(transport), State::Open));
  c->transport_->onConnected(fd);
  return c;
}

std::unique_ptr<Connection> Connection::connect(event::Loop& loop, const ip::Address& to,
                                                std::unique_ptr<TransportSocket> transport) {
  const int fd = ::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  std::unique_ptr<Connection> c(new Connection(loop, fd, to, std::move(transport), State::Connecting));
  if (fd < 0) {
    c->connect_failed_early_ = true;
    c->resume_timer_->enable(event::Duration(0));
    return c;
  }
  setNoDelay(fd);
  const int rc = ::connect(fd, to.sockAddr(), to.sockLen());
  if (rc != 0 && errno != EINPROGRESS) {
    // Report from the loop, not from inside the caller's connect().
    c->connect_failed_early_ = true;
    c->resume_timer_->enable(event::Duration(0));
  }
  // rc == 0 or EINPROGRESS: EPOLLOUT (edge-triggered, already registered) reports the outcome.
  return c;
}

void Connection::setBufferLimit(uint32_t high_watermark) {
  high_watermark_ = high_watermark;
  low_watermark_ = high_watermark / 2;
}

void Connection::onIoEvent(uint32_t events) {
  if (state_ == State::Closed) return;
  if (state_ == State::Connecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) onConnectResult();
    if (state_ != State::Open) return;
  }
  if (events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      closeNow(reasonFromErrno(err), false);
      return;
    }
  }
  if (handshaking_) {
    if (!advanceHandshake()) return;
    // Done: what was queued meanwhile may leave now, and the peer's first
    // bytes may already sit inside the transport, where epoll cannot see them.
    events |= EPOLLOUT | EPOLLIN;
  }
  if (events & EPOLLOUT) flush();
  if (state_ == State::Closed) return;
  // A FIN (RDHUP) is reported by this event only: then read to EAGAIN.
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    doRead((events & (EPOLLRDHUP | EPOLLHUP)) != 0);
  } else if (read_on_writable_ && (events & EPOLLOUT)) {
    doRead(/*drain=*/true);
  }
}

bool Connection::advanceHandshake() {
  const HandshakeResult r = transport_->doHandshake(fd_);
  if (r.status == HandshakeResult::Status::InProgress) return false;
  if (r.status == HandshakeResult::Status::Failed) {
    closeNow(r.err != 0 ? reasonFromErrno(r.err) : CloseReason::HandshakeFailed, false);
    return false;
  }
  handshaking_ = false;
  if (handshake_timer_) handshake_timer_->disable();
  const ConnectionEvent e = outbound_ ? ConnectionEvent::Connected : ConnectionEvent::HandshakeComplete;
  notify([e](ConnectionCallbacks& c) { c.onEvent(e); });
  return state_ == State::Open || state_ == State::Closing;
}

void Connection::setHandshakeTimeout(event::Duration timeout) {
  if (!handshaking_ || state_ == State::Closed) return;
  if (timeout.count() <= 0) {
    if (handshake_timer_) handshake_timer_->disable();
    return;
  }
  if (!handshake_timer_)
    handshake_timer_ = loop_.createTimer([this] { closeNow(CloseReason::HandshakeTimeout, false); });
  handshake_timer_->enable(timeout);
}

void Connection::onConnectResult() {
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    closeNow(CloseReason::ConnectFailed, false);
    return;
  }
  state_ = State::Open;
  transport_->onConnected(fd_);
  // With a handshake, Connected waits for it; this event's EPOLLOUT starts it.
  if (handshaking_) return;
  notify([](ConnectionCallbacks& c) { c.onEvent(ConnectionEvent::Connected); });
  // Data queued while connecting goes out now; EPOLLOUT in this same event does the rest.
}

CloseReason Connection::reasonFromErrno(int err) const {
  if (err == ECONNRESET || err == EPIPE) return CloseReason::PeerReset;
  if (state_ == State::Connecting) return CloseReason::ConnectFailed;
  return CloseReason::IoError;
}

void Connection::doRead(bool drain) {
  for (int i = 0; i < kReadsPerEvent; ++i) {
    if (state_ != State::Open || read_disable_count_ > 0 || read_eof_ || handshaking_) return;
    const IoResult r = transport_->doRead(fd_, read_buffer_, kReadChunk, drain);
    read_on_writable_ = r.needs_writable;
    if (flush_on_readable_) {
      flush_on_readable_ = false;
      flush_soon_.schedule();
    }
    bytes_read_ += r.bytes;
    if (rx_stat_) rx_stat_->inc(static_cast<int64_t>(r.bytes));
    if (r.status == IoResult::Status::Error) {
      closeNow(reasonFromErrno(r.err), false);
      return;
    }
    const bool eof = r.status == IoResult::Status::Closed;
    if (eof) read_eof_ = true;
    if ((r.bytes > 0 || eof) && read_handler_) read_handler_->onRead(read_buffer_, eof);
    if (eof) {
      maybeFinish();
      return;
    }
    if (r.bytes < kReadChunk) return;  // drained to EAGAIN
  }
  // Still readable after our share of the turn: continue next turn (edge-triggered
  // epoll will not report this fd again until new data arrives).
  if (state_ == State::Open && read_disable_count_ == 0) resume_timer_->enable(event::Duration(0));
}

void Connection::write(Buffer& data, bool end_stream) {
  if (state_ == State::Closed || state_ == State::Closing || write_end_queued_) {
    data.clear();
    return;
  }
  write_buffer_.move(data);
  if (end_stream) write_end_queued_ = true;
  if (state_ == State::Open) flush_soon_.schedule();
  updateWatermarks();
}

void Connection::flush() {
  if (state_ != State::Open && state_ != State::Closing) return;
  if (handshaking_) return;  // queued bytes leave once the handshake is done
  if (!write_buffer_.empty()) {
    const IoResult r = transport_->doWrite(fd_, write_buffer_);
    flush_on_readable_ = r.needs_readable;
    bytes_written_ += r.bytes;
    if (tx_stat_) tx_stat_->inc(static_cast<int64_t>(r.bytes));
    if (r.status == IoResult::Status::Error) {
      closeNow(reasonFromErrno(r.err), false);
      return;
    }
  }
  if (write_buffer_.empty()) {
    if (state_ == State::Closing) {
      closeNow(CloseReason::Local, false);
      return;
    }
    if (write_end_queued_ && !write_shut_) {
      transport_->shutdownWrite(fd_);
      write_shut_ = true;
      maybeFinish();
      if (state_ == State::Closed) return;
    }
  }
  updateWatermarks();
}

void Connection::updateWatermarks() {
  const size_t len = write_buffer_.length();
  if (!above_high_ && len > high_watermark_) {
    above_high_ = true;
    notify([](ConnectionCallbacks& c) { c.onAboveWriteBufferHighWatermark(); });
  } else if (above_high_ && len <= low_watermark_) {
    above_high_ = false;
    notify([](ConnectionCallbacks& c) { c.onBelowWriteBufferLowWatermark(); });
  }
}

void Connection::maybeFinish() {
  if (read_eof_ && write_shut_ && state_ == State::Open) closeNow(CloseReason::Done, false);
}

void Connection::readDisable(bool disable) {
  if (disable) {
    ++read_disable_count_;
    return;
  }
  if (read_disable_count_ == 0) return;
  if (--read_disable_count_ == 0 && state_ == State::Open && !read_eof_) {
    // Bytes may have arrived while paused and edge-triggered epoll will not
    // repeat itself: try a read next turn.
    resume_timer_->enable(event::Duration(0));
  }
}

void Connection::close(CloseType type) {
  if (state_ == State::Closed) return;
  // Already flushing before a close: a second FlushWrite waits for the same flush.
  if (type == CloseType::FlushWrite && state_ == State::Closing) return;
  if (type == CloseType::FlushWrite && state_ == State::Open && !write_buffer_.empty()) {
    state_ = State::Closing;
    read_disable_count_++;
    flush_timer_ = loop_.createTimer([this] { closeNow(CloseReason::Local, false); });
    flush_timer_->enable(std::chrono::duration_cast<event::Duration>(kFlushCloseTimeout));
    return;
  }
  closeNow(CloseReason::Local, type == CloseType::Reset);
}

void Connection::closeDetached(std::unique_ptr<Connection> conn, CloseType type) {
  Connection* c = conn.get();
  c->callbacks_.clear();
  c->read_handler_ = nullptr;
  if (c->state_ == State::Closed) {
    c->loop_.deferredDelete(std::move(conn));
    return;
  }
  c->self_ = std::move(conn);
  c->close(type);  // closeNow hands self_ to deferred deletion
}

void Connection::closeNow(CloseReason reason, bool reset) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  close_reason_ = reason;
  resume_timer_->disable();
  flush_soon_.cancel();
  if (flush_timer_) flush_timer_->disable();
  if (handshake_timer_) handshake_timer_->disable();
  if (fd_ >= 0) {
    if (reset) {
      linger lg{1, 0};
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else if (reason == CloseReason::Local || reason == CloseReason::Done) {
      transport_->onClosing(fd_);
    }
    loop_.removeFd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  read_buffer_.clear();
  write_buffer_.clear();
  notify([](ConnectionCallbacks& c) { c.onEvent(ConnectionEvent::Closed); });
  if (self_) loop_.deferredDelete(std::move(self_));
}

}  // namespace sluice::net
