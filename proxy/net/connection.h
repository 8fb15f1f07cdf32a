#pragma once
// Connection: one TCP connection (accepted or outbound) on one worker loop.
//
// - Reads go into a per-connection buffer and are handed to one ReadHandler
//   (the network filter chain, or a tcp_proxy upstream side).
// - Writes are queued in a write buffer and flushed as the socket allows;
//   crossing the high watermark (and then falling to the low one) is reported
//   to the callbacks so the peer side can pause/resume its reads: that is how
//   memory stays bounded when one side is slower.
// - Half-close: a peer FIN is delivered as end_stream and writing continues;
//   write(..., end_stream) sends our FIN after the queued bytes. When both
//   directions are done the connection closes itself (reason Done).
// - Handshakes: with a transport that has one (TLS), nothing is read or
//   written for the owner until the handshake is done (writes stay queued).
//   An accepted connection then raises HandshakeComplete (start the filter
//   chain there when SNI/ALPN/peer identity matter); an outbound one raises
//   Connected only then. setHandshakeTimeout() bounds the wait.
//
// Lifetime: owned by a unique_ptr; destroy it with Loop::deferredDelete(),
// never inside one of its own callbacks. All calls on the loop thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "proxy/event/loop.h"
#include "ip/address.h"
#include "proxy/net/buffer.h"
#include "proxy/net/transport_socket.h"
#include "proxy/stats/stats.h"

namespace sluice::net {

enum class ConnectionEvent {
  // Outbound: the connect finished and, with a handshaking transport (TLS),
  // its handshake too: application bytes flow. Never raised for accepted ones.
  Connected,
  // Accepted, with a handshaking transport only: the handshake finished and
  // tlsInfo() is set. Raised before any byte reaches the ReadHandler.
  // (Outbound connections report the same moment as Connected.)
  HandshakeComplete,
  Closed,  // the fd is closed; see closeReason()
};

enum class CloseReason {
  None,           // still open
  Done,           // both directions finished with FIN
  Local,          // close() was called
  PeerReset,      // RST from the peer (or EPIPE writing to it)
  ConnectFailed,  // outbound connect refused or unreachable
  IoError,        // any other socket error
  HandshakeFailed,   // the transport handshake failed (transport failureReason() says why)
  HandshakeTimeout,  // the handshake outlived setHandshakeTimeout()
};
std::string_view closeReasonName(CloseReason r);

enum class CloseType {
  FlushWrite,  // send what is queued (bounded by a flush timeout), then close
  NoFlush,     // close now, drop queued bytes
  Reset,       // close now with RST (SO_LINGER 0)
};

class ConnectionCallbacks {
 public:
  virtual void onEvent(ConnectionEvent event) = 0;
  // The write buffer grew past the high watermark / fell back to the low one.
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}

 protected:
  ~ConnectionCallbacks() = default;
};

class ReadHandler {
 public:
  // New bytes are at the end of `data`; the handler drains what it consumes.
  // end_stream: the peer sent FIN; no more data will follow.
  virtual void onRead(Buffer& data, bool end_stream) = 0;

 protected:
  ~ReadHandler() = default;
};

class Connection final : public event::IoHandler, public event::DeferredDeletable {
 public:
  // Wraps an accepted, connected, non-blocking fd.
  static std::unique_ptr<Connection> accepted(event::Loop& loop, int fd, const ip::Address& peer,
                                              std::unique_ptr<TransportSocket> transport);
  // Starts a non-blocking connect. The outcome arrives as Connected or
  // Closed(ConnectFailed), always from a later loop callback, never from here.
  static std::unique_ptr<Connection> connect(event::Loop& loop, const ip::Address& to,
                                             std::unique_ptr<TransportSocket> transport);
  ~Connection() override;

  // Several observers may watch one connection (the filter chain and a filter).
  void addCallbacks(ConnectionCallbacks* cb) { callbacks_.push_back(cb); }
  // Hands `from`'s place to `to` (a connection given to a new owner, even
  // from inside one of its callbacks: `to` hears the events after this one).
  void replaceCallbacks(ConnectionCallbacks* from, ConnectionCallbacks* to) {
    for (auto& cb : callbacks_)
      if (cb == from) cb = to;
  }
  void setReadHandler(ReadHandler* h) { read_handler_ = h; }
  // High watermark of the write buffer; low is half of it.
  void setBufferLimit(uint32_t high_watermark);
  // Counters bumped as bytes move (per-worker stats blocks; may be null).
  void setByteCounters(stats::Stat* rx, stats::Stat* tx) {
    rx_stat_ = rx;
    tx_stat_ = tx;
  }
  // Closes the connection (HandshakeTimeout) unless the transport handshake
  // is done within `timeout` from now. No-op for transports without one, or
  // once done. Zero disables.
  void setHandshakeTimeout(event::Duration timeout);

  // Queues all of `data` (left empty). Writes after end_stream are dropped.
  void write(Buffer& data, bool end_stream);
  // Nested pause/resume of reads (backpressure). Resuming re-reads in the next turn.
  void readDisable(bool disable);
  bool readEnabled() const { return read_disable_count_ == 0; }
  void close(CloseType type);
  // Closes a connection its owner is letting go of: callbacks are dropped and
  // the connection owns itself until a FlushWrite finishes (or times out).
  static void closeDetached(std::unique_ptr<Connection> conn, CloseType type);

  bool open() const { return state_ != State::Closed; }
  bool connecting() const { return state_ == State::Connecting; }
  // The transport handshake (TLS) has not finished yet.
  bool handshaking() const { return handshaking_; }
  // Handshake results (SNI, ALPN, peer identity); null for raw TCP and
  // until the handshake is done.
  const TlsInfo* tlsInfo() const { return transport_->tlsInfo(); }
  const TransportSocket& transport() const { return *transport_; }
  CloseReason closeReason() const { return close_reason_; }
  uint64_t id() const { return id_; }
  const ip::Address& peerAddress() const { return peer_; }
  // Where a captured client was going (a use_original_dst listener sets it
  // at accept); unset when the connection was addressed to the listener.
  const std::optional<ip::Address>& originalDestination() const { return original_destination_; }
  void setOriginalDestination(std::optional<ip::Address> to) { original_destination_ = std::move(to); }
  // The address this end of the socket has (getsockname: a system call,
  // for the rare paths that need it, never per request).
  ip::Address localAddress() const;
  size_t writeBufferLength() const { return write_buffer_.length(); }
  bool aboveHighWatermark() const { return above_high_; }
  uint64_t bytesRead() const { return bytes_read_; }
  uint64_t bytesWritten() const { return bytes_written_; }

  void onIoEvent(uint32_t events) override;

 private:
  enum class State { Connecting, Open, Closing, Closed };
  Connection(event::Loop& loop, int fd, const ip::Address& peer, std::unique_ptr<TransportSocket> transport, State state);

  void onConnectResult();
  // Returns true when the handshake finished in this call.
  bool advanceHandshake();
  template <class F>
  void notify(F f) {
    for (size_t i = 0; i < callbacks_.size(); ++i) f(*callbacks_[i]);
  }
  // `drain`: read to EAGAIN even after a short read (a FIN may be pending).
  void doRead(bool drain);
  void flush();
  void updateWatermarks();
  void maybeFinish();
  void closeNow(CloseReason reason, bool reset);
  CloseReason reasonFromErrno(int err) const;

  event::Loop& loop_;
  int fd_;
  ip::Address peer_;
  std::optional<ip::Address> original_destination_;
  std::unique_ptr<TransportSocket> transport_;
  State state_;
  uint64_t id_;
  bool outbound_;
  std::vector<ConnectionCallbacks*> callbacks_;
  stats::Stat* rx_stat_ = nullptr;
  stats::Stat* tx_stat_ = nullptr;
  ReadHandler* read_handler_ = nullptr;

  Buffer read_buffer_;
  Buffer write_buffer_;
  uint32_t high_watermark_ = 1024 * 1024;
  uint32_t low_watermark_ = 512 * 1024;
  bool above_high_ = false;
  int read_disable_count_ = 0;
  bool read_eof_ = false;         // peer sent FIN
  bool write_end_queued_ = false;  // our FIN is queued behind write_buffer_
  bool write_shut_ = false;       // our FIN was sent
  bool connect_failed_early_ = false;
  bool handshaking_ = false;       // transport handshake not finished yet
  bool read_on_writable_ = false;  // the transport's last read waits for EPOLLOUT
  bool flush_on_readable_ = false;  // the transport's last write waits for bytes from the peer
  CloseReason close_reason_ = CloseReason::None;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;

  // Zero-delay timer: resumes reads after a pause, or reports an early connect failure.
  std::unique_ptr<event::Timer> resume_timer_;
  // Scheduled by write(): everything written while one event is being
  // handled leaves in one send at the end of that loop phase.
  struct FlushSoon final : event::SoonTask {
    explicit FlushSoon(Connection& c) : SoonTask(c.loop_), conn(c) {}
    void runSoon() override { conn.flush(); }
    Connection& conn;
  };
  FlushSoon flush_soon_{*this};
  // Bounds how long close(FlushWrite) waits for a peer that does not read.
  std::unique_ptr<event::Timer> flush_timer_;
  std::unique_ptr<event::Timer> handshake_timer_;  // only for handshaking transports
  std::unique_ptr<Connection> self_;  // set by closeDetached while flushing
};

}  // namespace sluice::net
